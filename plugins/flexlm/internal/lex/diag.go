package lex

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Pos is a position in a source file. Line and Col are 1-based; Col counts
// bytes, so a tab is one column.
type Pos struct {
	File string
	Line int
	Col  int
}

// String formats the position as file:line:col, leaving out what is unknown.
func (p Pos) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		if b.Len() > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%d", p.Line)
		if p.Col > 0 {
			fmt.Fprintf(&b, ":%d", p.Col)
		}
	}
	return b.String()
}

// Severity grades a diagnostic.
type Severity int

// The severities. An Error makes the line it is about unusable; a Warning
// means the line was used, ignored or changed in a way the user should know;
// an Info is a note.
const (
	Info Severity = iota + 1
	Warning
	Error
)

// String returns "info", "warning" or "error".
func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// Diagnostic is a positioned message about a source file.
type Diagnostic struct {
	Pos      Pos
	Severity Severity
	Message  string
}

// String formats the diagnostic as "file:line:col: severity: message".
func (d Diagnostic) String() string {
	if p := d.Pos.String(); p != "" {
		return p + ": " + d.Severity.String() + ": " + d.Message
	}
	return d.Severity.String() + ": " + d.Message
}

// Errors is a list of Error diagnostics returned as one error.
type Errors []Diagnostic

func (e Errors) Error() string {
	switch len(e) {
	case 0:
		return "no errors"
	case 1:
		return e[0].String()
	}
	var b strings.Builder
	for i, d := range e {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.String())
	}
	return b.String()
}

// Sink collects diagnostics.
type Sink struct {
	List []Diagnostic
}

// Add records a diagnostic.
func (s *Sink) Add(pos Pos, sev Severity, format string, args ...any) {
	s.List = append(s.List, Diagnostic{Pos: pos, Severity: sev, Message: fmt.Sprintf(format, args...)})
}

// Sort orders the diagnostics by position, keeping the order of those at
// the same place.
func (s *Sink) Sort() {
	slices.SortStableFunc(s.List, func(a, b Diagnostic) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
}

// Err returns the Error diagnostics as an Errors, or nil when there are none.
func (s *Sink) Err() error {
	var errs Errors
	for _, d := range s.List {
		if d.Severity == Error {
			errs = append(errs, d)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// NonErrors returns the diagnostics that are not errors.
func (s *Sink) NonErrors() []Diagnostic {
	var out []Diagnostic
	for _, d := range s.List {
		if d.Severity != Error {
			out = append(out, d)
		}
	}
	return out
}
