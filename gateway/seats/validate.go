package seats

import (
	"errors"
	"fmt"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

// Validate checks cfg and returns every problem found, joined with
// errors.Join; each names the feature (vendor/name version) it concerns.
func Validate(cfg Config) error {
	var errs []error
	seen := make(map[PoolKey]bool, len(cfg.Features))
	for i := range cfg.Features {
		f := &cfg.Features[i]
		key := keyOf(f)
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("feature %s: %s", key, fmt.Sprintf(format, args...)))
		}
		if f.Name == "" {
			bad("(#%d) has no name", i+1)
		}
		if seen[key] {
			bad("defined twice")
		}
		seen[key] = true
		if !validVersion(f.Version) {
			bad("bad version %q", f.Version)
		}
		if f.Seats < 0 {
			bad("negative seats %d", f.Seats)
		}
		if !f.Start.IsZero() && !f.Expiry.IsZero() && !f.Expiry.After(f.Start) {
			bad("expiry %s is not after start %s", f.Expiry.Format(time.RFC3339), f.Start.Format(time.RFC3339))
		}
		if f.LeaseTTL < 0 {
			bad("negative lease TTL %s", f.LeaseTTL)
		}
		if f.MaxQueue < 0 {
			bad("negative max queue %d", f.MaxQueue)
		}
		if f.MaxWait < 0 {
			bad("negative max wait %s", f.MaxWait)
		}
		if f.MaxBorrow < 0 {
			bad("negative max borrow %s", f.MaxBorrow)
		}
		sum := 0
		for _, r := range f.Reserve {
			if r.Seats <= 0 {
				bad("reservation for %s: seats %d must be positive", r.Who, r.Seats)
			}
			sum += r.Seats
			if err := validSubject(r.Who, cfg); err != nil {
				bad("reservation: %v", err)
			}
		}
		if len(f.Reserve) > maxReservations {
			bad("%d reservations, at most %d", len(f.Reserve), maxReservations)
		}
		if sum > f.Seats {
			bad("reservations total %d seats, more than its %d", sum, f.Seats)
		}
		for _, l := range f.Max {
			if l.Seats < 0 {
				bad("limit for %s: negative seats %d", l.Who, l.Seats)
			}
			if err := validSubject(l.Who, cfg); err != nil {
				bad("limit: %v", err)
			}
		}
		for _, s := range f.Include {
			if err := validSubject(s, cfg); err != nil {
				bad("include: %v", err)
			}
		}
		for _, s := range f.Exclude {
			if err := validSubject(s, cfg); err != nil {
				bad("exclude: %v", err)
			}
		}
	}
	return errors.Join(errs...)
}

func validSubject(s Subject, cfg Config) error {
	if s.Name == "" {
		return fmt.Errorf("%s with no name", s.Kind)
	}
	switch s.Kind {
	case User, Host, Display, Project:
	case Group:
		if _, ok := cfg.Groups[s.Name]; !ok {
			return fmt.Errorf("unknown group %q", s.Name)
		}
	case HostGroup:
		if _, ok := cfg.HostGroups[s.Name]; !ok {
			return fmt.Errorf("unknown host group %q", s.Name)
		}
	case Internet:
		if _, ok := parseIPPattern(s.Name); !ok {
			return fmt.Errorf("bad internet pattern %q (want four octets or '*', e.g. 10.1.*.*)", s.Name)
		}
	default:
		return fmt.Errorf("unknown subject kind %q", s.Kind)
	}
	return nil
}

// String writes the key as vendor/name version.
func (k PoolKey) String() string {
	if k.Version == "" {
		return k.Vendor + "/" + k.Name
	}
	return k.Vendor + "/" + k.Name + " " + k.Version
}

func vendorOf(v string) string {
	if v == "" {
		return events.DefaultVendor
	}
	return v
}

// keyOf is the key of the pool f configures.
func keyOf(f *Feature) PoolKey {
	return PoolKey{Vendor: vendorOf(f.Vendor), Name: f.Name, Version: f.Version}
}
