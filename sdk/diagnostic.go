package sdk

import (
	"path/filepath"

	"github.com/licensegw/licensegw/sdk/policy"
)

// Severity grades a Diagnostic.
type Severity string

// The severities, least severe first.
const (
	SeverityInfo    Severity = "info"    // a note: shown in `licensegw import`'s output, not by validate
	SeverityWarning Severity = "warning" // not honoured as written; the configuration is still valid
	SeverityError   Severity = "error"   // the block cannot be used
)

// Diagnostic is something an import or a configuration check has to say,
// at a place the gateway can show: a position in a vendor file, or an
// attribute of the block.
type Diagnostic struct {
	Severity Severity
	Summary  string
	Detail   string
	// Pos is the place in a vendor file, its File named as the block names
	// it; zero when the diagnostic is about the block itself.
	Pos policy.Pos
	// Attribute is the attribute of the block it is about, when Pos is
	// zero (a file that cannot be read, a value out of range).
	Attribute string
	// Pool is the pool it concerns, when it concerns one.
	Pool policy.PoolRef
}

// AttrError is an error diagnostic about attribute attr of the block.
func AttrError(attr, summary, detail string) Diagnostic {
	return Diagnostic{Severity: SeverityError, Summary: summary, Detail: detail, Attribute: attr}
}

func hasErrors(ds []Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

// resolve makes name relative to dir when it is relative.
func resolve(dir, name string) string {
	if name == "" || filepath.IsAbs(name) || dir == "" {
		return name
	}
	return filepath.Join(dir, name)
}
