package node

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/licensegw/licensegw/gateway/admin"
	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/gateway/simulate"
)

// Simulate replays the journal's demand under another configuration
// (admin API, POST /v1/simulate): req.Config, or the running one with
// req.Seats changed.
func (n *Node) Simulate(ctx context.Context, req admin.SimulateRequest) (*simulate.Result, error) {
	cfg, err := n.simulatedConfig(req)
	if err != nil {
		return nil, err
	}
	if err := seats.Validate(cfg); err != nil {
		return nil, fmt.Errorf("%w: %w", admin.ErrBadRequest, err)
	}
	sim, err := simulate.New(cfg, simulate.Options{Since: req.Since, Until: req.Until})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", admin.ErrBadRequest, err)
	}
	if _, err := n.journal.Replay(ctx, 0, func(_ uint64, ev events.Event) error {
		sim.Add(&ev)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read the journal: %w", err)
	}
	return sim.Result()
}

// simulatedConfig is req's configuration: its own, or the running one with
// every version of the named features given the seats asked.
func (n *Node) simulatedConfig(req admin.SimulateRequest) (seats.Config, error) {
	if req.Config != nil {
		return *req.Config, nil
	}
	n.cfgMu.Lock()
	cfg := n.cfg.Engine()
	n.cfgMu.Unlock()
	cfg.Features = slices.Clone(cfg.Features)
	for name, count := range req.Seats {
		found := false
		for i := range cfg.Features {
			if cfg.Features[i].Name == name {
				cfg.Features[i].Seats, found = count, true
			}
		}
		if !found {
			var names []string
			for _, f := range cfg.Features {
				names = append(names, f.Name)
			}
			slices.Sort(names)
			return cfg, fmt.Errorf("%w: no feature %q in the running configuration (%s)", admin.ErrBadRequest, name, strings.Join(slices.Compact(names), ", "))
		}
	}
	return cfg, nil
}
