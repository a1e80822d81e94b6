package policy

import "strconv"

// Set is a body of policy: features with their own policies, and what it
// adds to policy defined elsewhere (groups, reservations on features other
// sources define). An importer returns one; the gateway merges every Set
// it is given into its configuration.
type Set struct {
	Features []Feature

	// Groups and HostGroups add names to the user and host groups of
	// those names; a group also defined elsewhere keeps its other members.
	Groups     map[string][]string
	HostGroups map[string][]string
	// GroupExclusions and HostGroupExclusions remove names from the user
	// and host groups of those names, whatever adds them (this Set, another
	// Set, the gateway's own configuration).
	GroupExclusions     map[string][]string
	HostGroupExclusions map[string][]string

	// Reservations keep seats of features the Set may not define itself.
	Reservations []FeatureReservation
}

// FeatureReservation is a reservation on every pool named Feature (at
// Version when not empty), wherever that pool is defined.
type FeatureReservation struct {
	Feature     string
	Version     string
	Reservation Reservation
	Pos         Pos // where the source says so, for diagnostics
}

// Pos is a place in a source file; Line and Col count from 1, and 0 means
// unknown.
type Pos struct {
	File string
	Line int
	Col  int
}

// IsZero reports whether p names no file.
func (p Pos) IsZero() bool { return p.File == "" }

// PoolRef names pools: the features named Name, of Vendor and at Version
// when those are not empty.
type PoolRef struct {
	Vendor  string
	Name    string
	Version string
}

// Matches reports whether f is one of the pools r names.
func (r PoolRef) Matches(f Feature) bool {
	return r.Name != "" && r.Name == f.Name && (r.Vendor == "" || r.Vendor == f.Vendor) && (r.Version == "" || r.Version == f.Version)
}

// String formats p as file:line:col, leaving out what is unknown.
func (p Pos) String() string {
	s := p.File
	if p.Line > 0 {
		s += ":" + strconv.Itoa(p.Line)
		if p.Col > 0 {
			s += ":" + strconv.Itoa(p.Col)
		}
	}
	return s
}
