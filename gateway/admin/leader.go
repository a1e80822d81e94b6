package admin

import (
	"context"
	"errors"
	"net/http"
)

// StepDowner is a Backend of a cluster node that can hand its leadership
// over to another node (rolling restarts and maintenance).
type StepDowner interface {
	// StepDown stops this node deciding, moves the journal stream's raft
	// leadership off its NATS server, releases the leader lease and
	// reports how the hand-over went. It fails with an error wrapping
	// ErrNotLeader when this node does not lead, ErrNoSuccessor when no
	// other node could take over.
	StepDown(ctx context.Context) (StepDownResult, error)
}

// Errors a StepDowner wraps; the API answers both with 409 Conflict.
var (
	ErrNotLeader   = errors.New("this node does not lead the cluster")
	ErrNoSuccessor = errors.New("no other node could take over")
)

// StepDownResult is what a step-down did.
type StepDownResult struct {
	Node string `json:"node"` // the node that stepped down
	Term uint64 `json:"term"` // the term it ended
	// Next and NextTerm are the node that leads now and its term, "" and
	// 0 when none had won the lease by the time the answer was sent.
	Next     string `json:"next,omitempty"`
	NextTerm uint64 `json:"next_term,omitempty"`
	// ReleasedMS is how long it took from the request until the lease
	// was released (the journal drained and closed, stream leaders
	// moved), ElectedMS until the next leader held the lease.
	ReleasedMS int64 `json:"released_ms"`
	ElectedMS  int64 `json:"elected_ms,omitempty"`
	// Moved lists the streams whose raft leader left this node's server.
	Moved []StreamMove `json:"moved,omitempty"`
}

// StreamMove is a stream whose raft leadership moved.
type StreamMove struct {
	Stream string `json:"stream"`
	From   string `json:"from"`
	To     string `json:"to"`
	TookMS int64  `json:"took_ms"`
}

// stepDown is POST /v1/leader/step-down.
func (h *handler) stepDown(w http.ResponseWriter, r *http.Request) {
	sd, ok := h.b.(StepDowner)
	if !ok {
		msg := ErrNotLeader.Error()
		if c := h.b.Status(r.Context()).Cluster; c == nil {
			msg = "this gateway is not in a cluster"
		} else if c.Leader != "" {
			msg += "; " + c.Leader + " leads"
		}
		writeError(w, http.StatusConflict, msg)
		return
	}
	res, err := sd.StepDown(r.Context())
	switch {
	case errors.Is(err, ErrNotLeader), errors.Is(err, ErrNoSuccessor):
		writeError(w, http.StatusConflict, err.Error())
		return
	case err != nil:
		h.log.Error("leader step-down", "error", err)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// StepDown asks the node at the client's address to hand its cluster
// leadership over (POST /v1/leader/step-down; a write token).
func (c *Client) StepDown(ctx context.Context) (*StepDownResult, error) {
	var res StepDownResult
	if _, err := c.doBody(ctx, http.MethodPost, "/v1/leader/step-down", nil, &res); err != nil {
		return nil, err
	}
	return &res, nil
}
