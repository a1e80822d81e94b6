package optfile

import "github.com/licensegw/licensegw/plugins/flexlm/internal/lex"

// Pos is a position in an options file (file:line:col).
type Pos = lex.Pos

// Severity grades a Diagnostic.
type Severity = lex.Severity

// The severities.
const (
	Info    = lex.Info
	Warning = lex.Warning
	Error   = lex.Error
)

// Diagnostic is a positioned message about an options file.
type Diagnostic = lex.Diagnostic

// Errors is the error Parse returns: every Error diagnostic.
type Errors = lex.Errors

// File is a parsed options file.
type File struct {
	Name       string
	Groups     []Group // user groups, in order of first definition
	HostGroups []Group // host groups, likewise
	Rules      []Rule  // the policy lines, in order
	Other      []Other // lines with a keyword the parser does not know
	// Diagnostics are the warnings and notes; errors come back from Parse.
	Diagnostics []Diagnostic
}

// Group is a GROUP or HOST_GROUP: all lines of one name, members in order.
type Group struct {
	Name    string
	Members []string
	Lines   []Pos // every line that added to it
}

// Keyword is a policy line's keyword.
type Keyword string

// The policy keywords.
const (
	Reserve        Keyword = "RESERVE"
	Max            Keyword = "MAX"
	Include        Keyword = "INCLUDE"
	Exclude        Keyword = "EXCLUDE"
	IncludeAll     Keyword = "INCLUDEALL"
	ExcludeAll     Keyword = "EXCLUDEALL"
	IncludeBorrow  Keyword = "INCLUDE_BORROW"
	ExcludeBorrow  Keyword = "EXCLUDE_BORROW"
	Timeout        Keyword = "TIMEOUT"
	TimeoutAll     Keyword = "TIMEOUTALL"
	Linger         Keyword = "LINGER"
	MaxBorrowHours Keyword = "MAX_BORROW_HOURS"
	BorrowLowwater Keyword = "BORROW_LOWWATER"
	NoLog          Keyword = "NOLOG"
)

// Type is the kind of name a policy line matches.
type Type string

// The types.
const (
	User      Type = "USER"
	Host      Type = "HOST"
	Display   Type = "DISPLAY"
	GroupType Type = "GROUP"
	HostGroup Type = "HOST_GROUP"
	Internet  Type = "INTERNET"
	Project   Type = "PROJECT"
)

// FeatureRef is the feature a line applies to: a name, optionally narrowed
// with name:KEY=value (VERSION=x selects one pool).
type FeatureRef struct {
	Name       string
	Version    string // from :VERSION=
	Qualifiers map[string]string
}

// Rule is one policy line. Which fields are set depends on Keyword:
//
//	RESERVE n feature TYPE name      Count, Feature, Type, Who
//	MAX n feature TYPE name          Count, Feature, Type, Who
//	INCLUDE|EXCLUDE feature TYPE name        Feature, Type, Who
//	INCLUDE_BORROW|EXCLUDE_BORROW feature TYPE name
//	INCLUDEALL|EXCLUDEALL TYPE name          Type, Who
//	TIMEOUT feature seconds          Feature, Count (seconds)
//	TIMEOUTALL seconds               Count (seconds)
//	LINGER feature seconds           Feature, Count (seconds)
//	MAX_BORROW_HOURS feature hours   Feature, Count (hours)
//	BORROW_LOWWATER feature n        Feature, Count
//	NOLOG IN|OUT|DENIED|QUEUED       What
type Rule struct {
	Pos     Pos
	Keyword Keyword
	Count   int
	Feature FeatureRef
	Type    Type
	Who     string
	What    string
}

// Other is a line with a keyword the parser does not interpret (REPORTLOG,
// DEBUGLOG, GROUPCASEINSENSITIVE, ...).
type Other struct {
	Pos     Pos
	Keyword string
	Args    []string
}
