package token

import (
	"fmt"
	"strings"
)

// Scope is what a token may do. Scopes are ordered: a scope allows what
// every lower scope allows.
type Scope int

// The scopes.
const (
	// None allows nothing; it is the zero value.
	None Scope = iota
	// Read allows looking: status, features, leases, queues, metrics.
	Read
	// Write allows changing: removing leases, reloading, stepping down.
	Write
)

// Scopes are the names of the scopes a configuration may give.
func Scopes() []string { return []string{"read", "write"} }

// ParseScope reads a scope's name.
func ParseScope(s string) (Scope, error) {
	switch s {
	case "read":
		return Read, nil
	case "write":
		return Write, nil
	}
	return None, fmt.Errorf("%q is not a scope; use %s", s, strings.Join(Scopes(), " or "))
}

// Allows reports whether s includes need.
func (s Scope) Allows(need Scope) bool { return need != None && s >= need }

func (s Scope) String() string {
	switch s {
	case Read:
		return "read"
	case Write:
		return "write"
	}
	return "none"
}
