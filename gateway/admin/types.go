package admin

import "time"

// Status is the whole gateway as GET /v1/status shows it.
type Status struct {
	Gateway  string    `json:"gateway"`
	Version  string    `json:"version"`
	Started  time.Time `json:"started"`
	Features []Feature `json:"features"`
	Plugins  []Plugin  `json:"plugins"`
	// Cluster is set on a clustered gateway (cluster.go).
	Cluster *ClusterStatus `json:"cluster,omitempty"`
}

// Feature is one pool.
type Feature struct {
	Vendor      string     `json:"vendor"`
	Name        string     `json:"name"`
	Version     string     `json:"version"`
	Description string     `json:"description,omitempty"`
	Seats       int        `json:"seats"`
	InUse       int        `json:"in_use"`
	Queued      int        `json:"queued"`
	Reserved    int        `json:"reserved"` // reserved seats not in use by their holders
	Start       *time.Time `json:"start,omitempty"`
	Expiry      *time.Time `json:"expiry,omitempty"`   // absent: permanent
	Expiring    bool       `json:"expiring,omitempty"` // expires within gateway.expiry_warning_days
	LeaseTTL    int        `json:"lease_ttl_seconds"`
	Queue       bool       `json:"queue"`
	Borrow      bool       `json:"borrow"`
	Retired     bool       `json:"retired,omitempty"` // removed by a reload, kept while leases remain
	Leases      []Lease    `json:"leases"`
	Tickets     []Ticket   `json:"tickets"`
}

// Lease is one held lease.
type Lease struct {
	ID       string    `json:"id"`
	Vendor   string    `json:"vendor"`
	Feature  string    `json:"feature"`
	Version  string    `json:"version"`
	Count    int       `json:"count"`
	User     string    `json:"user"`
	Host     string    `json:"host"`
	Display  string    `json:"display,omitempty"`
	Protocol string    `json:"protocol,omitempty"`
	Plugin   string    `json:"plugin,omitempty"`
	Client   string    `json:"client_addr,omitempty"`
	Granted  time.Time `json:"granted"`
	Expires  time.Time `json:"expires"`
	Borrowed bool      `json:"borrowed,omitempty"`
	Reserved int       `json:"reserved,omitempty"`
	// Bound: the lease ends with the client's connection; Node is the
	// cluster node holding that connection.
	Bound bool   `json:"bound,omitempty"`
	Node  string `json:"node,omitempty"`
}

// Ticket is one waiting queue ticket.
type Ticket struct {
	ID       string    `json:"id"`
	Vendor   string    `json:"vendor"`
	Feature  string    `json:"feature"`
	Version  string    `json:"version"`
	Count    int       `json:"count"`
	User     string    `json:"user"`
	Host     string    `json:"host"`
	Position int       `json:"position"`
	Queued   time.Time `json:"queued"`
	Deadline time.Time `json:"deadline"`
}

// Plugin is one protocol plugin instance.
type Plugin struct {
	Name      string            `json:"name"`
	Protocol  string            `json:"protocol"`
	Version   string            `json:"version"`
	State     string            `json:"state"`
	PID       int               `json:"pid,omitempty"`
	Restarts  int               `json:"restarts"`
	Listeners map[string]string `json:"listeners"`
	Since     time.Time         `json:"since"`
	LastError string            `json:"last_error,omitempty"`
}

// errorBody is every error answer's body.
type errorBody struct {
	Error string `json:"error"`
}
