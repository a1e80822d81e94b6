package lmstat

import "time"

// Status is what lmstat shows of one licence server.
type Status struct {
	// Tool is the first line after "lmutil - ", e.g. "licensegw FlexLM-compatible status v1.0.0".
	Tool string
	// Now is when the status was taken; it is printed in Location.
	Now      time.Time
	Location *time.Location // the server's time zone; nil means UTC

	Host          string   // the server host as clients name it
	Port          int      // the lmgrd port
	LicenseFiles  []string // shown on the "License file(s)" line
	Up            bool     // whether the server answered
	Master        bool     // printed as "(MASTER)"
	ServerVersion string   // e.g. "11.19.5", printed with a leading v

	// System and Servers describe a redundant server system (a triad):
	// System is its "port@h1,port@h2,port@h3" and Servers each of its
	// servers, printed one line each; Host and Port are then the server
	// the status was read from. Empty for a single server.
	System  string
	Servers []Server

	Vendors  []Vendor
	Features []Feature
}

// Server is one server of a redundant system.
type Server struct {
	Host    string
	Up      bool
	Master  bool   // printed as "(MASTER)"
	Version string // when up
}

// Vendor is a vendor daemon's state.
type Vendor struct {
	Name    string
	Up      bool
	Version string
}

// Feature is one pool's usage.
type Feature struct {
	Name       string
	Vendor     string
	Version    string
	Expiry     time.Time // zero: permanent
	Issued     int       // seats the licence has
	InUse      int       // seats held plus seats reserved and unused
	Uncounted  bool      // node-locked: printed as "(Uncounted, node-locked)"
	NodeLocked bool      // printed as "nodelocked license" rather than "floating license"

	Reservations []Reservation
	Users        []User
	Queued       []Queued
}

// Reservation is seats kept for someone and not in use by them.
type Reservation struct {
	Count int
	Type  string // USER, HOST, DISPLAY, GROUP, HOST_GROUP, INTERNET, PROJECT
	Name  string
}

// User is a holder of seats.
type User struct {
	User    string
	Host    string
	Display string
	Version string // the version checked out
	Handle  int
	Start   time.Time
	Count   int // 0 counts as 1
}

// Queued is a user waiting for seats.
type Queued struct {
	User    string
	Host    string
	Display string
	Version string
	Handle  int
	Count   int // 0 counts as 1
}
