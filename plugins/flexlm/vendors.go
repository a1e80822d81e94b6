package flexlm

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/licensegw/licensegw/sdk"
)

const (
	// vendorsFresh is how long the vendor names read from the gateway's
	// features are used before they are read again (in the background:
	// an answer never waits for a stale list).
	vendorsFresh = 30 * time.Second
	// vendorsWait bounds how long lmgrd waits for the gateway's features
	// when it knows no vendor names yet. A node cut off from its cluster
	// cannot read them (its forwarded Status retries for seconds), and
	// FlexLM clients give a server 5 s to answer (FLEXLM_TIMEOUT): lmgrd
	// answers well inside that, and the checkout then tells the client to
	// retry (ERROR -96).
	vendorsWait = time.Second
	// vendorsRead bounds one background read of the features.
	vendorsRead = 10 * time.Second
	// defaultVendor is the name lmgrd reports when it knows none.
	defaultVendor = "licensegw"
)

// vendorNames keeps the names of the vendors of the gateway's features,
// for lmgrd's answers when the configuration names none: read with
// Seats.Status, kept, and read again in the background when stale.
type vendorNames struct {
	mu      sync.Mutex
	names   []string      // the last read's; nil before the first success
	read    time.Time     // when names were read
	reading chan struct{} // closed when the read in flight ends; nil if none
}

// vendorNames returns the vendors lmgrd reports, and whether they are
// known: false when the gateway's features could not be read in time
// (names is then the default name alone). With reread it reads them again
// (waiting up to vendorsWait) even when those it has are fresh: a client
// asked for a vendor they do not name, which a reload may have added.
func (s *server) vendorNames(ctx context.Context, reread bool) (names []string, known bool) {
	if len(s.st.vendors) > 0 {
		return s.st.vendors, true
	}
	names, reading := s.refreshVendors(reread)
	if names != nil && !reread {
		return names, true
	}
	wait := time.NewTimer(vendorsWait)
	defer wait.Stop()
	select {
	case <-reading:
	case <-wait.C:
	case <-ctx.Done():
	}
	v := &s.vendors
	v.mu.Lock()
	names = v.names
	v.mu.Unlock()
	if names == nil {
		return []string{defaultVendor}, false
	}
	return names, true
}

// refreshVendors starts reading the vendor names in the background
// unless they are being read, or are fresh and force is false. It returns the names known now
// (nil if none) and the read in flight (nil if none).
func (s *server) refreshVendors(force bool) (names []string, reading <-chan struct{}) {
	v := &s.vendors
	v.mu.Lock()
	defer v.mu.Unlock()
	if (force || v.names == nil || time.Since(v.read) > vendorsFresh) && v.reading == nil {
		v.reading = make(chan struct{})
		go s.readVendors(v.reading)
	}
	if v.reading == nil {
		return v.names, nil
	}
	return v.names, v.reading
}

// readVendors reads the vendors of the gateway's features into s.vendors
// and closes done. A failed read keeps the names read before.
func (s *server) readVendors(done chan struct{}) {
	base := s.ctx
	if base == nil { // a server not run (tests)
		base = context.Background()
	}
	ctx, cancel := context.WithTimeout(base, vendorsRead)
	defer cancel()
	fs, err := s.seats.Status(ctx, sdk.StatusQuery{CountsOnly: true})
	var names []string
	for _, f := range fs {
		if f.Vendor != "" && !slices.Contains(names, f.Vendor) {
			names = append(names, f.Vendor)
		}
	}
	if err == nil && len(names) == 0 {
		names = []string{defaultVendor} // no feature names a vendor
	}
	v := &s.vendors
	v.mu.Lock()
	if err == nil {
		v.names, v.read = names, time.Now()
	} else {
		s.log.Debug("vendor names not read from the gateway's features", "error", err)
	}
	v.reading = nil
	v.mu.Unlock()
	close(done)
}
