package rsv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ErrSyntax is wrapped by every *Error Parse returns.
var ErrSyntax = errors.New("reservation file syntax error")

// MaxCount is the largest reservation count a line may give.
const MaxCount = 65535

// Pos is a position in a reservation file; Line and Col count from 1, Col in
// bytes.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Error is a syntax error at a position.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Unwrap makes errors.Is(err, ErrSyntax) true.
func (e *Error) Unwrap() error { return ErrSyntax }

// File is a parsed reservation file.
type File struct {
	Name         string // the name errors and positions use
	Reservations []Reservation
}

// Reservation is one line of a reservation file.
type Reservation struct {
	Pos     Pos
	Feature string
	Version string // "" when the line names no version
	Group   string
	Count   int
	Members []Member
}

// Member is one name of a reservation's member list.
type Member struct {
	Name    string
	Exclude bool // written "!name"
}

// ParseFile reads and parses the reservation file at path.
func ParseFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read reservation file: %w", err)
	}
	return Parse(path, data)
}

// Parse parses the contents of a reservation file; name is used in
// positions and errors.
func Parse(name string, data []byte) (*File, error) {
	f := &File{Name: name}
	for i, line := range bytes.Split(data, []byte("\n")) {
		p := lineParser{pos: Pos{File: name, Line: i + 1}, text: string(line)}
		r, ok, err := p.parse()
		if err != nil {
			return nil, err
		}
		if ok {
			f.Reservations = append(f.Reservations, r)
		}
	}
	return f, nil
}

// lineParser parses one line; off is the byte offset of the cursor.
type lineParser struct {
	pos  Pos
	text string
}

func (p *lineParser) errAt(off int, format string, args ...any) error {
	pos := p.pos
	pos.Col = off + 1
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *lineParser) parse() (Reservation, bool, error) {
	text := strings.TrimSuffix(p.text, "\r")
	if i := strings.IndexByte(text, '#'); i >= 0 {
		text = text[:i]
	}
	if strings.TrimSpace(text) == "" {
		return Reservation{}, false, nil
	}
	// fields holds the four colon-separated fields with their offsets.
	type field struct {
		off  int
		text string
	}
	var fields []field
	start := 0
	for i := 0; i <= len(text); i++ {
		if i == len(text) || (text[i] == ':' && len(fields) < 3) {
			fields = append(fields, field{start, text[start:i]})
			start = i + 1
		}
	}
	if len(fields) < 4 {
		return Reservation{}, false, p.errAt(len(text), "want feature[,version]:group:count:members, found %d field(s)", len(fields))
	}
	trim := func(f field) field {
		lead := len(f.text) - len(strings.TrimLeft(f.text, " \t"))
		return field{f.off + lead, strings.TrimSpace(f.text)}
	}
	r := Reservation{Pos: p.pos}
	r.Pos.Col = len(text) - len(strings.TrimLeft(text, " \t")) + 1

	feat := trim(fields[0])
	name, version, hasVersion := strings.Cut(feat.text, ",")
	if err := p.checkName(feat.off, "feature", name); err != nil {
		return r, false, err
	}
	if hasVersion {
		if version == "" {
			return r, false, p.errAt(feat.off+len(name)+1, "empty version after ','")
		}
		if i := strings.IndexFunc(version, func(c rune) bool { return !isVersionChar(c) }); i >= 0 {
			return r, false, p.errAt(feat.off+len(name)+1+i, "invalid character %q in version", version[i])
		}
	}
	r.Feature, r.Version = name, version

	group := trim(fields[1])
	if err := p.checkName(group.off, "group", group.text); err != nil {
		return r, false, err
	}
	r.Group = group.text

	count := trim(fields[2])
	n, err := strconv.Atoi(count.text)
	if err != nil || n < 1 || n > MaxCount || count.text[0] == '+' {
		return r, false, p.errAt(count.off, "count must be a whole number from 1 to %d, found %q", MaxCount, count.text)
	}
	r.Count = n

	members := fields[3]
	for off := 0; off < len(members.text); {
		if c := members.text[off]; c == ' ' || c == '\t' {
			off++
			continue
		}
		end := off
		for end < len(members.text) && members.text[end] != ' ' && members.text[end] != '\t' {
			end++
		}
		word := members.text[off:end]
		m := Member{Name: word}
		if strings.HasPrefix(word, "!") {
			m = Member{Name: word[1:], Exclude: true}
		}
		nameOff := members.off + end - len(m.Name)
		if err := p.checkName(nameOff, "member", m.Name); err != nil {
			return r, false, err
		}
		r.Members = append(r.Members, m)
		off = end
	}
	return r, true, nil
}

// checkName checks a feature, group or member name at offset off.
func (p *lineParser) checkName(off int, what, name string) error {
	if name == "" {
		return p.errAt(off, "empty %s name", what)
	}
	for i := 0; i < len(name); i++ {
		if !isNameChar(name[i]) {
			return p.errAt(off+i, "invalid character %q in %s name", name[i], what)
		}
	}
	return nil
}

// isNameChar accepts what user, host, group and feature names use in
// practice; it keeps ':', ',', '!', '#' and blanks out so that every name
// survives a round trip through Format.
func isNameChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("_-.@$+", c) >= 0
}

func isVersionChar(c rune) bool {
	return c < 128 && (c == '.' || c == '-' || c == '_' ||
		('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z'))
}

// Format writes f back in reservation-file syntax, one line per
// reservation, without comments.
func (f *File) Format() []byte {
	var b bytes.Buffer
	for _, r := range f.Reservations {
		b.WriteString(r.String())
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// String is the reservation as a reservation-file line.
func (r Reservation) String() string {
	var b strings.Builder
	b.WriteString(r.Feature)
	if r.Version != "" {
		b.WriteString("," + r.Version)
	}
	fmt.Fprintf(&b, ":%s:%d:", r.Group, r.Count)
	for i, m := range r.Members {
		if i > 0 {
			b.WriteByte(' ')
		}
		if m.Exclude {
			b.WriteByte('!')
		}
		b.WriteString(m.Name)
	}
	return b.String()
}
