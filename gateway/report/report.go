package report

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Dimensions a report can be split by.
const (
	ByFeature  = "feature"
	ByUser     = "user"
	ByHost     = "host"
	ByGroup    = "group"
	ByProtocol = "protocol"
)

// Dimensions lists every dimension, in the order keys show them.
func Dimensions() []string { return []string{ByFeature, ByUser, ByHost, ByGroup, ByProtocol} }

// Errors callers branch on.
var (
	// ErrQuery: the query is malformed (the API answers 400).
	ErrQuery = errors.New("report: bad query")
	// ErrEmpty: no events at all, or none in the range.
	ErrEmpty = errors.New("report: no events")
)

// DefaultRetryWindow is how soon after a denial a grant to the same user of
// the same feature makes the denial a retry rather than a true denial.
const DefaultRetryWindow = 10 * time.Minute

// Query selects what a report covers.
type Query struct {
	Since, Until time.Time // Until zero: now
	// By splits the rows; empty means by feature.
	By []string
	// RetryWindow: DefaultRetryWindow when 0.
	RetryWindow time.Duration
	// Groups maps a user group to its users (the configuration's groups),
	// for By group. A user in several groups counts in each; a user in
	// none counts under "-".
	Groups map[string][]string
}

// Key identifies a row. Fields of dimensions the query does not split by
// are empty.
type Key struct {
	Vendor   string `json:"vendor,omitempty"`
	Feature  string `json:"feature,omitempty"`
	User     string `json:"user,omitempty"`
	Host     string `json:"host,omitempty"`
	Group    string `json:"group,omitempty"`
	Protocol string `json:"protocol,omitempty"`
}

// String joins the key's set fields, for tables.
func (k Key) String() string {
	var parts []string
	for _, s := range []string{k.feature(), k.User, k.Host, k.Group, k.Protocol} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " ")
}

func (k Key) feature() string {
	if k.Feature == "" {
		return ""
	}
	return k.Vendor + "/" + k.Feature
}

// Validate checks q and fills its defaults.
func (q *Query) Validate(now time.Time) error {
	if q.Until.IsZero() {
		q.Until = now
	}
	if !q.Until.After(q.Since) {
		return fmt.Errorf("%w: --until (%s) is not after --since (%s)", ErrQuery, q.Until.Format(time.RFC3339), q.Since.Format(time.RFC3339))
	}
	if len(q.By) == 0 {
		q.By = []string{ByFeature}
	}
	for _, b := range q.By {
		if !slices.Contains(Dimensions(), b) {
			return fmt.Errorf("%w: unknown --by dimension %q (one of %s)", ErrQuery, b, strings.Join(Dimensions(), ", "))
		}
	}
	if q.RetryWindow == 0 {
		q.RetryWindow = DefaultRetryWindow
	}
	if q.RetryWindow < 0 {
		return fmt.Errorf("%w: negative retry window", ErrQuery)
	}
	return nil
}
