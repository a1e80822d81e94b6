package policy

import "time"

// Feature is one pool of seats: a vendor's feature at one version. Several
// pools may share vendor and name with different versions.
type Feature struct {
	Vendor      string // "" means the gateway's default vendor ("local")
	Name        string
	Version     string // dotted, compared numerically per component
	Seats       int
	Start       time.Time // zero: usable from any date
	Expiry      time.Time // zero: permanent
	LeaseTTL    time.Duration
	Queue       bool          // whether checkouts with a wait may queue
	MaxQueue    int           // 0: the gateway's default
	MaxWait     time.Duration // 0: a ticket waits as long as its request asks
	Borrow      bool          // whether offline borrowing is allowed
	MaxBorrow   time.Duration // longest borrow
	Description string

	Reserve []Reservation // seats kept for someone
	Max     []Limit       // at most N seats for someone
	Include []Subject     // when not empty, only these may use the feature
	Exclude []Subject     // these may not use the feature
}

// SubjectKind is the kind of name a policy matches, as in FlexLM options files.
type SubjectKind string

// The subject kinds.
const (
	User      SubjectKind = "user"
	Host      SubjectKind = "host"
	Display   SubjectKind = "display"
	Group     SubjectKind = "group"      // a user group (Set.Groups)
	HostGroup SubjectKind = "host_group" // a host group (Set.HostGroups)
	Internet  SubjectKind = "internet"   // an IPv4 pattern such as 10.1.*.* against the client address
	Project   SubjectKind = "project"
)

// SubjectKinds lists every kind, in the order configuration prints them.
func SubjectKinds() []SubjectKind {
	return []SubjectKind{User, Host, Group, HostGroup, Display, Internet, Project}
}

// Subject names who a policy applies to.
type Subject struct {
	Kind SubjectKind
	Name string
}

// Reservation keeps Seats seats of a pool for the clients Who matches.
type Reservation struct {
	Seats int
	Who   Subject
}

// Limit allows the clients Who matches at most Seats seats of a pool in total.
type Limit struct {
	Seats int
	Who   Subject
}

// String writes the subject as kind=name.
func (s Subject) String() string { return string(s.Kind) + "=" + s.Name }
