package simulate

import (
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/seats"
)

// DefaultHold is how long a request the record denied holds its seats when
// the simulation grants it and its feature has no recorded lease.
const DefaultHold = time.Hour

// ErrEmpty: no recorded requests in the range.
var ErrEmpty = errors.New("simulate: no recorded requests")

// longTTL outlives any range: simulated leases end at their recorded end.
const longTTL = 100 * 365 * 24 * time.Hour

// Options bound a simulation.
type Options struct {
	Since, Until time.Time // requests counted; Until zero: no bound
	// Observe, if not nil, is told every counted request's recorded and
	// simulated outcome, in order ("granted", "queued", "denied:<reason>").
	Observe func(recorded, simulated string)
}

// Outcome counts what became of requests, for one feature.
type Outcome struct {
	Requests      int            `json:"requests"`
	Granted       int            `json:"granted"` // at once
	Queued        int            `json:"queued"`  // went into a queue
	GrantedQueued int            `json:"granted_from_queue"`
	Denied        int            `json:"denied"`   // at once
	DequeuedUnmet int            `json:"dequeued"` // queued, never granted
	Reasons       map[string]int `json:"denial_reasons,omitempty"`
	QueueWaitAvg  float64        `json:"queue_wait_avg_seconds"`
	QueueWaitMax  float64        `json:"queue_wait_max_seconds"`
	PeakInUse     int            `json:"peak_in_use"`
	waits         []time.Duration
}

// Feature is one feature's recorded and simulated outcomes.
type Feature struct {
	Vendor    string  `json:"vendor"`
	Feature   string  `json:"feature"`
	Seats     int     `json:"seats"`             // in the simulated configuration, all versions
	Missing   bool    `json:"missing,omitempty"` // not in the simulated configuration
	Recorded  Outcome `json:"recorded"`
	Simulated Outcome `json:"simulated"`
}

// Result is a whole simulation.
type Result struct {
	Since      time.Time `json:"since"`
	Until      time.Time `json:"until"`
	EventsRead int       `json:"events_read"`
	Requests   int       `json:"requests"`
	Features   []Feature `json:"features"`
	Notes      []string  `json:"notes,omitempty"`
}

type featureKey struct{ vendor, name string }

// request is one recorded checkout request.
type request struct {
	id      int
	at      time.Time
	req     seats.CheckoutRequest
	outcome string // recorded
	counted bool
	// the simulation's side
	simLease, simTicket string
	simOutcome          string
	simGrantAt          time.Time
	hold                time.Duration // recorded hold, once known
	ended               bool          // its recorded lease has ended
	deniedInRecord      bool
}

// Simulator replays events. Make it with New, feed it every event in stream
// order with Add, then call Result.
type Simulator struct {
	opts Options
	eng  *seats.Engine
	cfg  seats.Config
	now  time.Time

	byLease   map[string]*request // recorded lease -> request
	byTicket  map[string]*request // recorded ticket -> request
	simTicket map[string]*request // simulated ticket -> request
	pending   endHeap             // simulated ends not tied to a recorded end event
	holds     map[featureKey]holdSum
	recInUse  map[seats.PoolKey]int // recorded in use per pool, as last reported
	simInUse  map[seats.PoolKey]int
	features  map[featureKey]*Feature
	evs       []events.Event
	read      int
	requests  int
	nextID    int
}

// New returns a simulator of cfg.
func New(cfg seats.Config, opts Options) (*Simulator, error) {
	sim := cfg
	sim.Features = slices.Clone(cfg.Features)
	for i := range sim.Features {
		sim.Features[i].LeaseTTL = longTTL
		sim.Features[i].MaxBorrow = max(sim.Features[i].MaxBorrow, longTTL)
	}
	eng, err := seats.New(sim, seats.Options{})
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	return &Simulator{
		opts: opts, eng: eng, cfg: cfg,
		recInUse: map[seats.PoolKey]int{}, simInUse: map[seats.PoolKey]int{},
		byLease: map[string]*request{}, byTicket: map[string]*request{}, simTicket: map[string]*request{},
		holds: map[featureKey]holdSum{}, features: map[featureKey]*Feature{},
	}, nil
}

// Result finishes the simulation (every scheduled end runs) and reports it.
func (s *Simulator) Result() (*Result, error) {
	if s.read == 0 {
		return nil, fmt.Errorf("%w: the journal holds no events yet", ErrEmpty)
	}
	if s.requests == 0 {
		return nil, fmt.Errorf("%w between %s and %s", ErrEmpty, fmtTime(s.opts.Since), fmtTime(s.opts.Until))
	}
	for len(s.pending) > 0 {
		e := heap.Pop(&s.pending).(end)
		s.tick(e.at)
		s.endSim(e.r)
	}
	res := &Result{Since: s.opts.Since, Until: s.opts.Until, EventsRead: s.read, Requests: s.requests}
	configured := map[featureKey]int{}
	for _, f := range s.cfg.Features {
		v := f.Vendor
		if v == "" {
			v = events.DefaultVendor
		}
		configured[featureKey{v, f.Name}] += f.Seats
	}
	for k, f := range s.features {
		if f.Recorded.Requests == 0 && f.Simulated.Requests == 0 {
			continue
		}
		seatsN, ok := configured[k]
		f.Seats, f.Missing = seatsN, !ok
		if f.Missing {
			res.Notes = append(res.Notes, fmt.Sprintf("feature %s/%s is in the journal but not in the simulated configuration: its requests are simulated as denied (unknown-feature)", k.vendor, k.name))
		}
		f.Recorded.finish()
		f.Simulated.finish()
		res.Features = append(res.Features, *f)
	}
	slices.SortFunc(res.Features, func(a, b Feature) int {
		return cmp.Or(cmp.Compare(a.Vendor, b.Vendor), cmp.Compare(a.Feature, b.Feature))
	})
	sort.Strings(res.Notes)
	return res, nil
}

func (o *Outcome) finish() {
	if len(o.waits) == 0 {
		return
	}
	var total time.Duration
	for _, w := range o.waits {
		total += w
		o.QueueWaitMax = max(o.QueueWaitMax, w.Seconds())
	}
	o.QueueWaitAvg = (total / time.Duration(len(o.waits))).Seconds()
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "the end"
	}
	return t.UTC().Format(time.RFC3339)
}
