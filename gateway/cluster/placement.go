package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Why placement matters: a replicated stream has a raft leader of its own,
// on one of the NATS servers. If it sits on the gateway leader's server and
// that host dies, the next gateway leader cannot write (nor win the lease,
// for the lease bucket) until nats-server has elected another stream
// leader, which takes its raft election timeout (4-9 s, not configurable),
// on top of the lease's own 2 s. Keeping those leaders on other servers
// makes the loss of the gateway leader's host cost one election, not two.

// stepDownAPI is the JetStream API subject that asks a stream's raft leader
// to step down (only the stream's leader answers it).
const stepDownAPI = "$JS.API.STREAM.LEADER.STEPDOWN."

// Move is one stream whose raft leader was asked to leave a server.
type Move struct {
	Stream string
	From   string        // the server it left
	To     string        // the server that leads it now ("" if not known in time)
	Took   time.Duration // from the request until another server led it
}

// ErrNotMoved is wrapped by MoveAway's error for a stream whose leader did
// not leave the server in time.
var ErrNotMoved = errors.New("cluster: stream leader did not move")

// apiAttempt bounds one JetStream API request of a move. nats-server does
// not answer a request that reaches a stream's servers while its raft
// leader changes (the old leader no longer answers, the new one not yet):
// such a request is lost, not late, so each is asked again after this
// rather than waited on for the whole move.
const apiAttempt = 500 * time.Millisecond

// pollAttempt bounds one ask of a move's wait for the next leader.
const pollAttempt = 200 * time.Millisecond

// StreamLeader is the server that leads stream's raft group, "" while it
// has none, and the other replicas that are current (could lead it).
// It asks once, until ctx ends; see streamLeader for a bounded ask.
func StreamLeader(ctx context.Context, js jetstream.JetStream, stream string) (leader string, current []string, err error) {
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return "", nil, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return "", nil, err
	}
	if info.Cluster == nil {
		return "", nil, nil
	}
	for _, p := range info.Cluster.Replicas {
		if p.Current && !p.Offline {
			current = append(current, p.Name)
		}
	}
	return info.Cluster.Leader, current, nil
}

// streamLeader is StreamLeader asked again, each ask bounded by
// apiAttempt, until one is answered or ctx ends: a stream that is not
// found (or not replicated) is answered at once.
func streamLeader(ctx context.Context, js jetstream.JetStream, stream string) (leader string, current []string, err error) {
	for {
		c, cancel := context.WithTimeout(ctx, apiAttempt)
		leader, current, err = StreamLeader(c, js, stream)
		cancel()
		if err == nil || errors.Is(err, jetstream.ErrStreamNotFound) || ctx.Err() != nil {
			return leader, current, err
		}
		select {
		case <-ctx.Done():
			return "", nil, err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// MoveAway asks each stream whose raft leader is the server named self to
// step down, so that another of its replicas leads it, and waits (until
// ctx ends) until one does. Streams led elsewhere, not replicated, or with
// no current replica to take over are left alone. It returns the moves
// made; its error joins those of the streams that could not be moved.
//
// The streams are handled concurrently: a hand-over waits for the slowest
// one, not for their sum.
func MoveAway(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, self string, streams ...string) ([]Move, error) {
	return MoveAwayAvoiding(ctx, nc, js, self, nil, streams...)
}

// MoveAwayAvoiding is MoveAway that never asks for one of the servers
// named in avoid as the next leader (a server about to stop, say): a
// stream with no other current replica stays where it is.
func MoveAwayAvoiding(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, self string, avoid []string, streams ...string) ([]Move, error) {
	streams = slices.Compact(slices.Sorted(slices.Values(streams)))
	moves := make([]*Move, len(streams))
	errs := make([]error, len(streams))
	var wg sync.WaitGroup
	for i, stream := range streams {
		wg.Go(func() {
			m, err := moveStream(ctx, nc, js, stream, self, avoid)
			if m == nil && err == nil {
				return
			}
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", stream, err)
				return
			}
			moves[i] = m
		})
	}
	wg.Wait()
	var out []Move
	for _, m := range moves {
		if m != nil {
			out = append(out, *m)
		}
	}
	return out, errors.Join(errs...)
}

// moveStream moves stream's raft leader off self if it is there and
// another current replica, not in avoid, can take it; it returns nil and
// no error when there is nothing to move.
func moveStream(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, stream, self string, avoid []string) (*Move, error) {
	leader, others, err := streamLeader(ctx, js, stream)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case leader != self || len(candidates(others, self, avoid)) == 0:
		return nil, nil
	}
	m, err := stepDown(ctx, nc, js, stream, self, avoid)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// candidates are the current replicas that may lead next.
func candidates(current []string, self string, avoid []string) []string {
	var out []string
	for _, c := range current {
		if c != self && !slices.Contains(avoid, c) {
			out = append(out, c)
		}
	}
	return out
}

// stepDown asks stream's leader (self) to step down in favour of a current
// replica, and waits until another server leads it. A raft step-down can
// end with the same server elected again (a replica that was not current
// after all): it asks again, each time after a second, until ctx ends.
// Every request is bounded by apiAttempt (see there).
func stepDown(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, stream, self string, avoid []string) (Move, error) {
	m := Move{Stream: stream, From: self}
	began := time.Now()
	var asked error // the last request's refusal
	moved := func() bool {
		// Asked while the stream elects, this is lost more often than
		// not: a short bound keeps a lost ask from delaying the answer.
		c, cancel := context.WithTimeout(ctx, pollAttempt)
		leader, _, err := StreamLeader(c, js, stream)
		cancel()
		if err == nil && leader != "" && leader != self {
			m.To, m.Took = leader, time.Since(began)
			return true
		}
		return false
	}
	for attempt := 0; ; attempt++ {
		leader, others, err := streamLeader(ctx, js, stream)
		if err == nil && leader != "" && leader != self {
			m.To, m.Took = leader, time.Since(began)
			return m, nil
		}
		if err == nil && leader == self {
			next := candidates(others, self, avoid)
			if len(next) == 0 && len(avoid) > 0 {
				return m, fmt.Errorf("%w from %s: no current replica to take it but %v", ErrNotMoved, self, avoid)
			}
			preferred := "" // none current now: let the raft group choose
			if len(next) > 0 {
				preferred = next[attempt%len(next)]
			}
			asked = askStepDown(ctx, nc, stream, preferred)
		}
		// Wait for the election, up to a second, before asking again.
		wait := time.Now().Add(time.Second)
		backoff := 50 * time.Millisecond
		for time.Now().Before(wait) {
			select {
			case <-ctx.Done():
				if asked != nil {
					return m, fmt.Errorf("%w from %s within %v: %w", ErrNotMoved, self, time.Since(began).Round(time.Millisecond), asked)
				}
				return m, fmt.Errorf("%w from %s within %v", ErrNotMoved, self, time.Since(began).Round(time.Millisecond))
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 200*time.Millisecond)
			if moved() {
				return m, nil
			}
		}
	}
}

// askStepDown sends the step-down request, naming the replica preferred
// as the next leader.
func askStepDown(ctx context.Context, nc *nats.Conn, stream, preferred string) error {
	var req []byte
	if preferred != "" {
		req, _ = json.Marshal(map[string]any{"placement": map[string]string{"preferred": preferred}})
	}
	rctx, cancel := context.WithTimeout(ctx, 2*apiAttempt)
	msg, err := nc.RequestWithContext(rctx, stepDownAPI+stream, req)
	cancel()
	if err != nil {
		return fmt.Errorf("leader step-down request: %w", err)
	}
	var resp struct {
		Error *struct {
			Code        int    `json:"err_code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return fmt.Errorf("leader step-down answer: %w", err)
	}
	if resp.Error != nil {
		return fmt.Errorf("leader step-down refused: %s (%d)", resp.Error.Description, resp.Error.Code)
	}
	return nil
}

// LeaseStream is the stream that holds the leader lease bucket.
func LeaseStream(bucket string) string {
	if bucket == "" {
		bucket = DefaultBucket
	}
	return "KV_" + bucket
}

// MoveLease moves the raft leader of the lease bucket's stream off the
// server named self (this leader's NATS server) when it sits there, like
// MoveAway, without costing this node its lease. While the stream elects
// its next raft leader no renewal can be stored; so the move begins right
// after a renewal (Renew), with the whole StopAfter ahead of it rather
// than what is left of the last one, and renewals during the move are
// asked again until the next raft leader answers (see renewAttempt). A
// renewal that took more than a quarter of StopAfter says the cluster is
// slow, and an election would be too: the move is then not made (the
// placement tries again later).
func (e *Elector) MoveLease(ctx context.Context, self string, avoid []string) (*Move, error) {
	js, stream := e.cfg.JS, LeaseStream(e.cfg.Bucket)
	leader, others, err := streamLeader(ctx, js, stream)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("%s: %w", stream, err)
	case leader != self || len(candidates(others, self, avoid)) == 0:
		return nil, nil
	}
	until, err := e.Renew(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: renew the lease before moving it: %w", stream, err)
	}
	if left := time.Until(until); left < e.cfg.StopAfter*3/4 {
		return nil, fmt.Errorf("%w: %s: the lease's renewal took %v; not moving it while renewals are slow",
			ErrNotMoved, stream, (e.cfg.StopAfter - left).Round(time.Millisecond))
	}
	m, err := stepDown(ctx, js.Conn(), js, stream, self, avoid)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", stream, err)
	}
	return &m, nil
}
