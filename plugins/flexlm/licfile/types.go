package licfile

import (
	"fmt"
	"strings"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm/internal/lex"
)

// Pos is a position in a licence file (file:line:col).
type Pos = lex.Pos

// Severity grades a Diagnostic.
type Severity = lex.Severity

// The severities.
const (
	Info    = lex.Info
	Warning = lex.Warning
	Error   = lex.Error
)

// Diagnostic is a positioned message about a licence file.
type Diagnostic = lex.Diagnostic

// Errors is the error Parse returns: every Error diagnostic, each with its
// file:line:col.
type Errors = lex.Errors

// File is a parsed licence file.
type File struct {
	Name      string // as given to Parse, used in positions
	Servers   []Server
	Vendors   []Vendor
	UseServer *Pos    // the USE_SERVER line, if any
	Lines     []*Line // every FEATURE and INCREMENT line, in order
	Pools     []Pool  // the pools the lines make, in order of first appearance
	Other     []Other
	// Diagnostics are the warnings and notes; errors come back from Parse.
	Diagnostics []Diagnostic
}

// Attr is an attribute as written: KEY=VALUE, or a bare KEY.
type Attr struct {
	Pos    Pos
	Key    string
	Value  string // unquoted
	HasEq  bool   // whether written with '='
	Quoted bool
}

// Attrs is a list of attributes in the order written.
type Attrs []Attr

// Get returns the first attribute named key (case-insensitive).
func (as Attrs) Get(key string) (Attr, bool) {
	for _, a := range as {
		if strings.EqualFold(a.Key, key) {
			return a, true
		}
	}
	return Attr{}, false
}

// Value returns the value of the first attribute named key, or "".
func (as Attrs) Value(key string) string {
	a, _ := as.Get(key)
	return a.Value
}

// Has reports whether an attribute named key is present.
func (as Attrs) Has(key string) bool {
	_, ok := as.Get(key)
	return ok
}

// Server is a SERVER line.
type Server struct {
	Pos               Pos
	Host              string
	HostID            string
	Port              int // 0: not given (FlexLM then picks one of 27000-27009)
	PrimaryIsMaster   bool
	HeartbeatInterval int   // seconds; 0: not given
	Attrs             Attrs // everything after the port, as written
}

// Vendor is a VENDOR (or old-style DAEMON) line.
type Vendor struct {
	Pos        Pos
	Name       string
	DaemonPath string
	Options    string // options file path
	Port       int    // 0: not given
	Attrs      Attrs
}

// Date is a calendar date as written in a licence file.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d == Date{} }

// Time returns midnight at the start of d in loc.
func (d Date) Time(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// String formats d as FlexLM does: 31-dec-2027.
func (d Date) String() string {
	return fmt.Sprintf("%d-%s-%04d", d.Day, strings.ToLower(d.Month.String()[:3]), d.Year)
}

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// Line is a FEATURE or INCREMENT line.
type Line struct {
	Pos       Pos
	Keyword   string // "FEATURE" or "INCREMENT"
	Name      string
	Vendor    string
	Version   string
	Permanent bool // expiry "permanent" or a year of 0
	Expiry    Date // the last day of use, when not Permanent
	Count     int  // 0 when Uncounted
	Uncounted bool // count "uncounted" or 0: node-locked
	// Key is the old-style positional licence key (a 12-hex-digit word
	// after the count), if present. Like SIGN it is not verified.
	Key   string
	Attrs Attrs

	// Ignored is set on a FEATURE line of a name already seen: FlexLM uses
	// the first. A warning says so.
	Ignored bool

	// The common attributes, decoded. They stay in Attrs too.
	Start        Date   // START=
	Issued       Date   // ISSUED=
	Borrow       bool   // BORROW or BORROW=hours
	BorrowHours  int    // BORROW=hours; 168 for a bare BORROW
	HostID       string // HOSTID=
	DupGroup     string // DUP_GROUP=
	TSOK         bool   // TS_OK
	Sign         string // SIGN= (or SIGN2=); NOT verified
	Issuer       string
	Notice       string
	SN           string
	VendorString string
	Platforms    string
	Supersede    string // SUPERSEDE or SUPERSEDE="f1 f2"; "" with HasSupersede for a bare one
	HasSupersede bool
	Ck           string
}

// DefaultBorrowHours is the borrow period of a bare BORROW attribute.
const DefaultBorrowHours = 168

// SignatureStatus is what can be said about a line's signature: it is
// never verified, because that needs the vendor's keys.
func (l *Line) SignatureStatus() string {
	if l.Sign == "" && l.Key == "" {
		return "unsigned"
	}
	return "not verified"
}

// Pool is the licences one vendor's feature offers at one version: the
// counts of its FEATURE and INCREMENT lines added up.
type Pool struct {
	Vendor    string
	Name      string
	Version   string
	Count     int  // the total of the counted lines
	Uncounted bool // the first line is uncounted (node-locked)
	Lines     []*Line
}

// First returns the line that opened the pool.
func (p *Pool) First() *Line { return p.Lines[0] }

// Other is a line whose keyword the parser does not know (PACKAGE,
// UPGRADE, ...). It is kept so that an importer can report it.
type Other struct {
	Pos     Pos
	Keyword string
	Args    []string
}
