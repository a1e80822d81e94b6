package node

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/report"
)

// Report runs a report over the whole journal (admin API,
// GET /v1/reports/{kind}). The query's groups default to the running
// configuration's user groups.
func (n *Node) Report(ctx context.Context, kind string, q report.Query) (*report.Result, error) {
	if q.Groups == nil {
		n.cfgMu.Lock()
		q.Groups = maps.Clone(n.cfg.Groups)
		n.cfgMu.Unlock()
	}
	if err := q.Validate(time.Now()); err != nil {
		return nil, err
	}
	r := report.New(q)
	// Scan, the journal's bulk reader: a report reads the whole stream.
	if _, err := n.journal.Scan(ctx, 0, func(ev *events.Event) error {
		r.Add(ev)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read the journal: %w", err)
	}
	return r.Result(kind)
}
