package licfile

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/licensegw/licensegw/plugins/flexlm/internal/lex"
)

// ParseFile reads and parses the licence file at path.
func ParseFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("licence file: %w", err)
	}
	return Parse(path, data)
}

// ParseReader reads r to the end and parses it; name appears in positions.
func ParseReader(name string, r io.Reader) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("licence file %s: %w", name, err)
	}
	return Parse(name, data)
}

// Parse parses the licence file src; name appears in positions. It always
// returns a File with everything it could read; the error, when not nil, is
// an Errors listing every line it could not use. Warnings and notes are in
// File.Diagnostics.
func Parse(name string, src []byte) (*File, error) {
	p := &parser{f: &File{Name: name}}
	for _, l := range lex.Lines(name, src, &p.sink) {
		if l.Bad {
			continue
		}
		p.line(l)
	}
	p.finish()
	p.sink.Sort()
	p.f.Diagnostics = p.sink.NonErrors()
	return p.f, p.sink.Err()
}

type parser struct {
	f     *File
	sink  lex.Sink
	pools map[poolKey]int // index into f.Pools
	names map[nameKey]Pos // first line of each vendor's feature name
}

type poolKey struct{ vendor, name, version string }
type nameKey struct{ vendor, name string }

func (p *parser) errorf(pos Pos, format string, args ...any) {
	p.sink.Add(pos, lex.Error, format, args...)
}

func (p *parser) warnf(pos Pos, format string, args ...any) {
	p.sink.Add(pos, lex.Warning, format, args...)
}

func (p *parser) line(l lex.Line) {
	kw := l.Tokens[0]
	switch strings.ToUpper(kw.Text) {
	case "SERVER":
		p.server(l)
	case "VENDOR", "DAEMON":
		p.vendor(l)
	case "USE_SERVER":
		pos := kw.Pos
		p.f.UseServer = &pos
		if len(l.Tokens) > 1 {
			p.warnf(l.Tokens[1].Pos, "USE_SERVER takes no arguments; %q ignored", l.Tokens[1].Raw)
		}
	case "FEATURE", "INCREMENT":
		p.feature(l)
	default:
		o := Other{Pos: kw.Pos, Keyword: kw.Text}
		for _, t := range l.Tokens[1:] {
			o.Args = append(o.Args, t.Raw)
		}
		p.f.Other = append(p.f.Other, o)
		p.warnf(kw.Pos, "unknown line type %q kept but not interpreted", kw.Text)
	}
}

func attr(t lex.Token) Attr {
	if t.HasEq {
		return Attr{Pos: t.Pos, Key: t.Key, Value: t.Value, HasEq: true, Quoted: t.Quoted}
	}
	return Attr{Pos: t.Pos, Key: t.Text, Quoted: t.Quoted}
}

func (p *parser) server(l lex.Line) {
	if len(l.Tokens) < 3 {
		p.errorf(l.Pos, "SERVER needs a host and a host id: SERVER host hostid [port]")
		return
	}
	s := Server{Pos: l.Pos, Host: l.Tokens[1].Text, HostID: l.Tokens[2].Text}
	rest := l.Tokens[3:]
	if len(rest) > 0 && !rest[0].HasEq && isDigits(rest[0].Text) {
		port, ok := p.port(rest[0].Pos, rest[0].Text)
		if !ok {
			return
		}
		s.Port = port
		rest = rest[1:]
	}
	for _, t := range rest {
		a := attr(t)
		s.Attrs = append(s.Attrs, a)
		switch strings.ToUpper(a.Key) {
		case "PRIMARY_IS_MASTER":
			s.PrimaryIsMaster = true
		case "HEARTBEAT_INTERVAL":
			n, err := strconv.Atoi(a.Value)
			if err != nil || n <= 0 {
				p.errorf(a.Pos, "HEARTBEAT_INTERVAL=%q: want a number of seconds", a.Value)
				return
			}
			s.HeartbeatInterval = n
		case "PORT":
			port, ok := p.port(a.Pos, a.Value)
			if !ok {
				return
			}
			s.Port = port
		default:
			p.warnf(a.Pos, "unknown SERVER attribute %q kept", t.Raw)
		}
	}
	p.f.Servers = append(p.f.Servers, s)
}

func (p *parser) port(pos Pos, s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > 65535 {
		p.errorf(pos, "bad port %q: want 1-65535", s)
		return 0, false
	}
	return n, true
}

func (p *parser) vendor(l lex.Line) {
	if len(l.Tokens) < 2 {
		p.errorf(l.Pos, "VENDOR needs a name: VENDOR name [daemon_path] [[OPTIONS=]file] [[PORT=]port]")
		return
	}
	v := Vendor{Pos: l.Pos, Name: l.Tokens[1].Text}
	positional := 0
	for _, t := range l.Tokens[2:] {
		a := attr(t)
		v.Attrs = append(v.Attrs, a)
		if a.HasEq {
			switch strings.ToUpper(a.Key) {
			case "OPTIONS":
				v.Options = a.Value
			case "PORT":
				port, ok := p.port(a.Pos, a.Value)
				if !ok {
					return
				}
				v.Port = port
			default:
				p.warnf(a.Pos, "unknown VENDOR attribute %q kept", t.Raw)
			}
			continue
		}
		// Positional: daemon path, options file, port; a number is the port.
		if isDigits(t.Text) {
			port, ok := p.port(t.Pos, t.Text)
			if !ok {
				return
			}
			v.Port = port
			positional = 3
			continue
		}
		switch positional {
		case 0:
			v.DaemonPath = t.Text
		case 1:
			v.Options = t.Text
		default:
			p.warnf(t.Pos, "unexpected VENDOR argument %q kept", t.Raw)
		}
		positional++
	}
	for _, o := range p.f.Vendors {
		if o.Name == v.Name {
			p.warnf(v.Pos, "VENDOR %s already declared at %s; this line is ignored", v.Name, o.Pos)
			return
		}
	}
	p.f.Vendors = append(p.f.Vendors, v)
}

var (
	versionRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)
	oldKeyRE  = regexp.MustCompile(`^[0-9A-Fa-f]{12,20}$`)
)

func (p *parser) feature(l lex.Line) {
	kw := strings.ToUpper(l.Tokens[0].Text)
	if len(l.Tokens) < 6 {
		p.errorf(l.Pos, "%s needs name, vendor, version, expiry and count: %s name vendor version expiry count [attr=value ...]", kw, kw)
		return
	}
	for _, t := range l.Tokens[1:6] {
		if t.HasEq {
			p.errorf(t.Pos, "%s: %q found where name, vendor, version, expiry or count was expected", kw, t.Raw)
			return
		}
	}
	ln := &Line{
		Pos: l.Pos, Keyword: kw,
		Name: l.Tokens[1].Text, Vendor: l.Tokens[2].Text, Version: l.Tokens[3].Text,
	}
	if !versionRE.MatchString(ln.Version) {
		p.errorf(l.Tokens[3].Pos, "bad version %q: want a dotted number such as 2024.1", ln.Version)
		return
	}
	exp := l.Tokens[4]
	if strings.EqualFold(exp.Text, "permanent") {
		ln.Permanent = true
	} else {
		d, perm, err := ParseDate(exp.Text)
		if err != nil {
			p.errorf(exp.Pos, "expiry: %v", err)
			return
		}
		ln.Expiry, ln.Permanent = d, perm
	}
	cnt := l.Tokens[5]
	if strings.EqualFold(cnt.Text, "uncounted") {
		ln.Uncounted = true
	} else {
		n, err := strconv.Atoi(cnt.Text)
		if err != nil || n < 0 || !isDigits(cnt.Text) {
			p.errorf(cnt.Pos, "bad count %q: want a number or \"uncounted\"", cnt.Text)
			return
		}
		ln.Count = n
		ln.Uncounted = n == 0
	}
	rest := l.Tokens[6:]
	if len(rest) > 0 && !rest[0].HasEq && oldKeyRE.MatchString(rest[0].Text) {
		ln.Key = rest[0].Text
		rest = rest[1:]
	}
	for _, t := range rest {
		a := attr(t)
		ln.Attrs = append(ln.Attrs, a)
		if !p.decodeAttr(ln, a) {
			return
		}
	}
	if ln.Uncounted && ln.HostID == "" {
		p.warnf(cnt.Pos, "uncounted %s %s has no HOSTID; FlexLM requires one for node-locked licences", kw, ln.Name)
	}
	p.f.Lines = append(p.f.Lines, ln)
	p.pool(ln)
}

// decodeAttr fills the decoded field of a known attribute. It reports false
// when the line is unusable.
func (p *parser) decodeAttr(ln *Line, a Attr) bool {
	key := strings.ToUpper(a.Key)
	if key == "CK" && a.Key != "ck" && a.Key != "CK" {
		key = "" // only ck (or CK) is the checksum
	}
	switch key {
	case "SIGN", "SIGN2":
		if ln.Sign == "" {
			ln.Sign = a.Value
		}
	case "HOSTID":
		ln.HostID = a.Value
	case "DUP_GROUP":
		ln.DupGroup = a.Value
	case "BORROW":
		ln.Borrow, ln.BorrowHours = true, DefaultBorrowHours
		if a.HasEq {
			n, err := strconv.Atoi(a.Value)
			if err != nil || n <= 0 {
				p.errorf(a.Pos, "BORROW=%q: want a number of hours", a.Value)
				return false
			}
			ln.BorrowHours = n
		}
	case "START":
		d, perm, err := ParseDate(a.Value)
		if err != nil {
			p.errorf(a.Pos, "START: %v", err)
			return false
		}
		if perm {
			p.warnf(a.Pos, "START=%s has year 0; taken as no start date", a.Value)
		}
		ln.Start = d
	case "ISSUED":
		d, _, err := ParseDate(a.Value)
		if err != nil {
			p.warnf(a.Pos, "ISSUED: %v; kept as written", err)
		}
		ln.Issued = d
	case "ISSUER":
		ln.Issuer = a.Value
	case "NOTICE":
		ln.Notice = a.Value
	case "SN":
		ln.SN = a.Value
	case "VENDOR_STRING":
		ln.VendorString = a.Value
	case "PLATFORMS":
		ln.Platforms = a.Value
	case "TS_OK":
		ln.TSOK = true
	case "SUPERSEDE":
		ln.HasSupersede, ln.Supersede = true, a.Value
	case "CK":
		ln.Ck = a.Value
	default:
		// Unknown attributes stay in Attrs; the importer reports them.
	}
	return true
}

// pool applies FlexLM's combination rules to a new line.
func (p *parser) pool(ln *Line) {
	if p.pools == nil {
		p.pools = map[poolKey]int{}
		p.names = map[nameKey]Pos{}
	}
	nk := nameKey{ln.Vendor, ln.Name}
	pk := poolKey{ln.Vendor, ln.Name, ln.Version}
	first, seen := p.names[nk]
	if ln.Keyword == "FEATURE" && seen {
		ln.Ignored = true
		p.warnf(ln.Pos, "FEATURE %s (vendor %s) already defined at %s; FlexLM uses the first, this line is ignored",
			ln.Name, ln.Vendor, first)
		return
	}
	if !seen {
		p.names[nk] = ln.Pos
	}
	i, ok := p.pools[pk]
	if !ok {
		p.pools[pk] = len(p.f.Pools)
		p.f.Pools = append(p.f.Pools, Pool{
			Vendor: ln.Vendor, Name: ln.Name, Version: ln.Version,
			Count: ln.Count, Uncounted: ln.Uncounted, Lines: []*Line{ln},
		})
		return
	}
	pl := &p.f.Pools[i]
	if pl.Uncounted != ln.Uncounted {
		p.warnf(ln.Pos, "%s %s mixes counted and uncounted lines in one pool (first at %s)",
			ln.Keyword, ln.Name, pl.First().Pos)
	}
	pl.Count += ln.Count
	pl.Lines = append(pl.Lines, ln)
}

// finish checks what needs the whole file.
func (p *parser) finish() {
	if len(p.f.Vendors) == 0 {
		return
	}
	warned := map[string]bool{}
	for _, l := range p.f.Lines {
		if warned[l.Vendor] {
			continue
		}
		found := false
		for _, v := range p.f.Vendors {
			if v.Name == l.Vendor {
				found = true
				break
			}
		}
		if !found {
			warned[l.Vendor] = true
			p.warnf(l.Pos, "vendor %q has no VENDOR line in this file", l.Vendor)
		}
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
