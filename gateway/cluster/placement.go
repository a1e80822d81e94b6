package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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

// StreamLeader is the server that leads stream's raft group, "" while it
// has none, and whether the stream has other current replicas to lead it.
func StreamLeader(ctx context.Context, js jetstream.JetStream, stream string) (leader string, others bool, err error) {
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return "", false, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return "", false, err
	}
	if info.Cluster == nil {
		return "", false, nil
	}
	for _, p := range info.Cluster.Replicas {
		if p.Current && !p.Offline {
			others = true
		}
	}
	return info.Cluster.Leader, others, nil
}

// MoveAway asks each stream whose raft leader is the server named self to
// step down, so that another of its replicas leads it, and waits (until
// ctx ends) until one does. Streams led elsewhere, not replicated, or with
// no current replica to take over are left alone. It returns the moves
// made; its error joins those of the streams that could not be moved.
func MoveAway(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, self string, streams ...string) ([]Move, error) {
	var moves []Move
	var errs []error
	for _, stream := range slices.Compact(slices.Clone(streams)) {
		leader, others, err := StreamLeader(ctx, js, stream)
		switch {
		case errors.Is(err, jetstream.ErrStreamNotFound):
			continue
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", stream, err))
			continue
		case leader != self || !others:
			continue
		}
		m, err := stepDown(ctx, nc, js, stream, self)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", stream, err))
			continue
		}
		moves = append(moves, m)
	}
	return moves, errors.Join(errs...)
}

// stepDown asks stream's leader (self) to step down and waits until
// another server leads it.
func stepDown(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, stream, self string) (Move, error) {
	m := Move{Stream: stream, From: self}
	began := time.Now()
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	msg, err := nc.RequestWithContext(rctx, stepDownAPI+stream, nil)
	cancel()
	if err != nil {
		return m, fmt.Errorf("leader step-down request: %w", err)
	}
	var resp struct {
		Success bool `json:"success"`
		Error   *struct {
			Code        int    `json:"err_code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return m, fmt.Errorf("leader step-down answer: %w", err)
	}
	if resp.Error != nil {
		return m, fmt.Errorf("leader step-down refused: %s (%d)", resp.Error.Description, resp.Error.Code)
	}
	backoff := 20 * time.Millisecond
	for {
		leader, _, err := StreamLeader(ctx, js, stream)
		if err == nil && leader != "" && leader != self {
			m.To, m.Took = leader, time.Since(began)
			return m, nil
		}
		select {
		case <-ctx.Done():
			return m, fmt.Errorf("%w from %s within %v", ErrNotMoved, self, time.Since(began).Round(time.Millisecond))
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

// LeaseStream is the stream that holds the leader lease bucket.
func LeaseStream(bucket string) string {
	if bucket == "" {
		bucket = DefaultBucket
	}
	return "KV_" + bucket
}
