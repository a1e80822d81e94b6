package optfile

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/licensegw/licensegw/plugins/flexlm/internal/lex"
)

// ParseFile reads and parses the options file at path.
func ParseFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("options file: %w", err)
	}
	return Parse(path, data)
}

// Parse parses the options file src; name appears in positions. It always
// returns a File with every line it could use; the error, when not nil, is
// an Errors listing the lines it could not.
func Parse(name string, src []byte) (*File, error) {
	p := &parser{f: &File{Name: name}}
	for _, l := range lex.Lines(name, src, &p.sink) {
		if l.Bad {
			continue
		}
		p.line(l)
	}
	p.sink.Sort()
	p.f.Diagnostics = p.sink.NonErrors()
	return p.f, p.sink.Err()
}

type parser struct {
	f    *File
	sink lex.Sink
}

func (p *parser) errorf(pos Pos, format string, args ...any) {
	p.sink.Add(pos, lex.Error, format, args...)
}

func (p *parser) warnf(pos Pos, format string, args ...any) {
	p.sink.Add(pos, lex.Warning, format, args...)
}

// usage is the syntax of each keyword, for error messages.
var usage = map[Keyword]string{
	Reserve:        "RESERVE count feature TYPE name",
	Max:            "MAX count feature TYPE name",
	Include:        "INCLUDE feature TYPE name",
	Exclude:        "EXCLUDE feature TYPE name",
	IncludeBorrow:  "INCLUDE_BORROW feature TYPE name",
	ExcludeBorrow:  "EXCLUDE_BORROW feature TYPE name",
	IncludeAll:     "INCLUDEALL TYPE name",
	ExcludeAll:     "EXCLUDEALL TYPE name",
	Timeout:        "TIMEOUT feature seconds",
	TimeoutAll:     "TIMEOUTALL seconds",
	Linger:         "LINGER feature seconds",
	MaxBorrowHours: "MAX_BORROW_HOURS feature hours",
	BorrowLowwater: "BORROW_LOWWATER feature count",
	NoLog:          "NOLOG IN|OUT|DENIED|QUEUED",
}

func (p *parser) line(l lex.Line) {
	kw := strings.ToUpper(l.Tokens[0].Text)
	args := l.Tokens[1:]
	switch kw {
	case "GROUP":
		p.group(&p.f.Groups, l)
		return
	case "HOST_GROUP":
		p.group(&p.f.HostGroups, l)
		return
	}
	k := Keyword(kw)
	use, ok := usage[k]
	if !ok {
		o := Other{Pos: l.Pos, Keyword: l.Tokens[0].Text}
		for _, t := range args {
			o.Args = append(o.Args, t.Raw)
		}
		p.f.Other = append(p.f.Other, o)
		return
	}
	r := Rule{Pos: l.Pos, Keyword: k}
	bad := func() { p.errorf(l.Pos, "%s: want %s", kw, use) }
	switch k {
	case Reserve, Max:
		if len(args) != 4 {
			bad()
			return
		}
		n, ok := p.count(args[0])
		if !ok {
			return
		}
		r.Count = n
		if r.Feature, ok = p.feature(args[1]); !ok {
			return
		}
		if r.Type, r.Who, ok = p.subject(args[2], args[3]); !ok {
			return
		}
	case Include, Exclude, IncludeBorrow, ExcludeBorrow:
		if len(args) != 3 {
			bad()
			return
		}
		if r.Feature, ok = p.feature(args[0]); !ok {
			return
		}
		if r.Type, r.Who, ok = p.subject(args[1], args[2]); !ok {
			return
		}
	case IncludeAll, ExcludeAll:
		if len(args) != 2 {
			bad()
			return
		}
		if r.Type, r.Who, ok = p.subject(args[0], args[1]); !ok {
			return
		}
	case Timeout, Linger, MaxBorrowHours, BorrowLowwater:
		if len(args) != 2 {
			bad()
			return
		}
		if r.Feature, ok = p.feature(args[0]); !ok {
			return
		}
		if r.Count, ok = p.count(args[1]); !ok {
			return
		}
	case TimeoutAll:
		if len(args) != 1 {
			bad()
			return
		}
		if r.Count, ok = p.count(args[0]); !ok {
			return
		}
	case NoLog:
		if len(args) != 1 {
			bad()
			return
		}
		r.What = strings.ToUpper(args[0].Text)
		switch r.What {
		case "IN", "OUT", "DENIED", "QUEUED":
		default:
			p.errorf(args[0].Pos, "NOLOG %q: want IN, OUT, DENIED or QUEUED", args[0].Text)
			return
		}
	}
	p.f.Rules = append(p.f.Rules, r)
}

func (p *parser) group(list *[]Group, l lex.Line) {
	kw := strings.ToUpper(l.Tokens[0].Text)
	if len(l.Tokens) < 2 {
		p.errorf(l.Pos, "%s needs a name: %s name member ...", kw, kw)
		return
	}
	name := l.Tokens[1].Text
	var members []string
	for _, t := range l.Tokens[2:] {
		members = append(members, t.Text)
	}
	if len(members) == 0 {
		p.warnf(l.Pos, "%s %s lists no members", kw, name)
	}
	for i := range *list {
		g := &(*list)[i]
		if g.Name == name {
			// FlexLM adds the members of every line of a name.
			g.Members = appendNew(g.Members, members)
			g.Lines = append(g.Lines, l.Pos)
			return
		}
	}
	*list = append(*list, Group{Name: name, Members: appendNew(nil, members), Lines: []Pos{l.Pos}})
}

// appendNew appends the members of add not already in have (linear, so
// that huge groups stay cheap).
func appendNew(have, add []string) []string {
	seen := make(map[string]bool, len(have)+len(add))
	for _, h := range have {
		seen[h] = true
	}
	for _, m := range add {
		if !seen[m] {
			seen[m] = true
			have = append(have, m)
		}
	}
	return have
}

func (p *parser) count(t lex.Token) (int, bool) {
	n, err := strconv.Atoi(t.Text)
	if err != nil || n < 0 || t.Text[0] == '+' {
		p.errorf(t.Pos, "%q: want a non-negative number", t.Text)
		return 0, false
	}
	return n, true
}

// feature parses name or name:KEY=value[:KEY=value].
func (p *parser) feature(t lex.Token) (FeatureRef, bool) {
	parts := strings.Split(t.Text, ":")
	ref := FeatureRef{Name: parts[0]}
	if ref.Name == "" {
		p.errorf(t.Pos, "%q: missing feature name", t.Raw)
		return FeatureRef{}, false
	}
	for _, q := range parts[1:] {
		k, v, ok := strings.Cut(q, "=")
		if !ok || k == "" {
			p.errorf(t.Pos, "%q: qualifier %q must be KEY=value", t.Raw, q)
			return FeatureRef{}, false
		}
		if ref.Qualifiers == nil {
			ref.Qualifiers = map[string]string{}
		}
		ref.Qualifiers[strings.ToUpper(k)] = v
		if strings.EqualFold(k, "VERSION") {
			ref.Version = v
		}
	}
	return ref, true
}

func (p *parser) subject(typ, who lex.Token) (Type, string, bool) {
	t := Type(strings.ToUpper(typ.Text))
	switch t {
	case User, Host, Display, GroupType, HostGroup, Project:
	case Internet:
		if !validInternet(who.Text) {
			p.errorf(who.Pos, "INTERNET %q: want an IPv4 pattern such as 10.1.*.*", who.Text)
			return "", "", false
		}
	default:
		p.errorf(typ.Pos, "unknown type %q: want USER, HOST, DISPLAY, GROUP, HOST_GROUP, INTERNET or PROJECT", typ.Text)
		return "", "", false
	}
	if who.Text == "" {
		p.errorf(who.Pos, "empty %s name", t)
		return "", "", false
	}
	return t, who.Text, true
}

// validInternet accepts dotted quads whose parts are numbers 0-255 or '*'.
func validInternet(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	concrete := make([]string, 4)
	for i, part := range parts {
		if part == "*" {
			concrete[i] = "0"
			continue
		}
		concrete[i] = part
	}
	return net.ParseIP(strings.Join(concrete, ".")).To4() != nil
}
