package forward

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"

	"github.com/licensegw/licensegw/internal/retry"
	"github.com/licensegw/licensegw/sdk"
)

// Engine is what the leader's service hands requests to: its ledger.
type Engine interface {
	// SeatsFor is the accounting for plugin on node (the node holding
	// the client's connection).
	SeatsFor(node, plugin, protocol string) sdk.Seats
	// ReleaseBoundOn ends the leases granted before before and bound to
	// connections node holds through plugin ("" for all of them).
	ReleaseBoundOn(ctx context.Context, node, plugin string, before time.Time) error
}

// Admin is the leader's admin API backend, for followers' status and
// administrative calls. Status is any JSON-encodable value.
type Admin interface {
	AdminStatus(ctx context.Context) any
	RemoveLease(ctx context.Context, id, by string) error
	Reload(ctx context.Context) error
}

// ServiceConfig configures a Service.
type ServiceConfig struct {
	Conn   *nats.Conn
	Prefix string
	Term   uint64 // the leader's term, sent with every answer
	Engine Engine
	Admin  Admin
	// Workers bounds the requests handled at once (each waits for the
	// journal); DefaultWorkers when 0. Heartbeats are answered inline.
	Workers int
	// Timeout bounds one request's handling; DefaultHandle when 0.
	Timeout time.Duration
	Log     hclog.Logger
}

// Defaults of ServiceConfig.
const (
	DefaultWorkers = 256
	DefaultHandle  = 8 * time.Second
)

// Service answers forwarded seat calls on the leader.
type Service struct {
	cfg  ServiceConfig
	subs []*nats.Subscription
	sem  chan struct{}
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup
}

// Serve subscribes the leader's service to every operation.
func Serve(cfg ServiceConfig) (*Service, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultHandle
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Service{cfg: cfg, sem: make(chan struct{}, cfg.Workers), ctx: ctx, stop: stop}
	for _, op := range ops {
		sub, err := cfg.Conn.Subscribe(Subject(cfg.Prefix, op), s.handler(op))
		if err != nil {
			s.Stop()
			return nil, fmt.Errorf("forward: subscribe %s: %w", op, err)
		}
		// Bursts of checkouts from many followers queue here rather than
		// being dropped as a slow consumer.
		_ = sub.SetPendingLimits(1<<16, 64<<20)
		s.subs = append(s.subs, sub)
	}
	if err := cfg.Conn.Flush(); err != nil {
		s.Stop()
		return nil, fmt.Errorf("forward: %w", err)
	}
	return s, nil
}

// Stop unsubscribes and waits for the requests in hand.
func (s *Service) Stop() {
	for _, sub := range s.subs {
		_ = sub.Unsubscribe()
	}
	s.stop()
	s.wg.Wait()
}

func (s *Service) handler(op string) nats.MsgHandler {
	return func(m *nats.Msg) {
		var req request
		if err := json.Unmarshal(m.Data, &req); err != nil {
			s.respond(m, &reply{Err: toWire(fmt.Errorf("forward: bad request: %w", err))})
			return
		}
		if op == opHeartbeat || op == opPing {
			// The cheap path: no journal, a lookup under the ledger's lock.
			s.respond(m, s.handle(s.ctx, op, &req))
			return
		}
		select {
		case s.sem <- struct{}{}:
		case <-s.ctx.Done():
			return
		}
		s.wg.Go(func() {
			defer func() { <-s.sem }()
			ctx, cancel := context.WithTimeout(s.ctx, s.cfg.Timeout)
			defer cancel()
			s.respond(m, s.handle(ctx, op, &req))
		})
	}
}

func (s *Service) respond(m *nats.Msg, r *reply) {
	r.Term = s.cfg.Term
	b, err := json.Marshal(r)
	if err != nil {
		b, _ = json.Marshal(&reply{Term: s.cfg.Term, Err: toWire(err)})
	}
	if err := m.Respond(b); err != nil {
		s.cfg.Log.Debug("forward: reply not sent", "subject", m.Subject, "error", err)
	}
}

func (s *Service) handle(ctx context.Context, op string, req *request) *reply {
	seats := func() sdk.Seats { return s.cfg.Engine.SeatsFor(req.Node, req.Plugin, req.Protocol) }
	switch op {
	case opPing:
		return &reply{}
	case opCheckout:
		if req.Checkout == nil {
			return &reply{Err: toWire(errors.New("forward: checkout without a request"))}
		}
		co, err := seats().Checkout(ctx, *req.Checkout)
		if err != nil {
			return &reply{Err: toWire(err)}
		}
		if co.Updates != nil {
			s.wg.Go(func() { s.relay(req.Node, req.Waiter, co.Updates) })
		}
		return &reply{Checkout: &wireCheckout{Outcome: co.Outcome, Grant: co.Grant, Denial: co.Denial, Ticket: co.Ticket, Position: co.Position}}
	case opHeartbeat:
		st, err := seats().Heartbeat(ctx, req.Lease)
		if err != nil {
			return &reply{Err: toWire(err)}
		}
		return &reply{State: &st}
	case opCheckin:
		return &reply{Err: toWire(seats().Checkin(ctx, req.Lease))}
	case opCancel:
		return &reply{Err: toWire(seats().Cancel(ctx, req.Ticket))}
	case opRemove:
		var by sdk.Client
		if req.By != nil {
			by = *req.By
		}
		return &reply{Err: toWire(seats().Remove(ctx, req.Lease, by))}
	case opStatus:
		var q sdk.StatusQuery
		if req.Query != nil {
			q = *req.Query
		}
		fs, err := seats().Status(ctx, q)
		return &reply{Features: fs, Err: toWire(err)}
	case opReload:
		return &reply{Err: toWire(seats().Reload(ctx))}
	case opRelease:
		return &reply{Err: toWire(s.cfg.Engine.ReleaseBoundOn(ctx, req.Node, req.Plugin, req.Before))}
	case opAdmin:
		if s.cfg.Admin == nil {
			return &reply{Err: toWire(errors.New("no admin backend"))}
		}
		b, err := gzipJSON(s.cfg.Admin.AdminStatus(ctx))
		return &reply{Status: b, Err: toWire(err)}
	case opAdminRm:
		if s.cfg.Admin == nil {
			return &reply{Err: toWire(errors.New("no admin backend"))}
		}
		return &reply{Err: toWire(s.cfg.Admin.RemoveLease(ctx, req.Lease, req.Actor))}
	case opAdminLoad:
		if s.cfg.Admin == nil {
			return &reply{Err: toWire(errors.New("no admin backend"))}
		}
		return &reply{Err: toWire(s.cfg.Admin.Reload(ctx))}
	}
	return &reply{Err: toWire(fmt.Errorf("forward: unknown operation %q", op))}
}

// relayTry bounds the delivery of one ticket update to its follower.
var relayTry = retry.Policy{Initial: 50 * time.Millisecond, Max: time.Second, GiveUpAfter: 10 * time.Second}

// relay sends a queued checkout's updates to the follower's waiter, each
// retried until that node answers (or relayTry is spent: the node is
// gone, and its client with it).
func (s *Service) relay(node, waiter string, updates <-chan sdk.TicketUpdate) {
	subject := TicketSubject(s.cfg.Prefix, node)
	for {
		var u sdk.TicketUpdate
		var ok bool
		select {
		case u, ok = <-updates:
		case <-s.ctx.Done():
			return // stepping down: the next leader dequeues the ticket
		}
		if !ok {
			return
		}
		b, err := json.Marshal(ticketUpdate{Waiter: waiter, Term: s.cfg.Term, Update: u})
		if err != nil {
			s.cfg.Log.Error("forward: ticket update not encoded", "error", err)
			continue
		}
		_, err = retry.Do(s.ctx, relayTry, func() (*nats.Msg, error) {
			ctx, cancel := context.WithTimeout(s.ctx, 2*time.Second)
			defer cancel()
			return s.cfg.Conn.RequestWithContext(ctx, subject, b)
		})
		if err != nil && s.ctx.Err() == nil {
			s.cfg.Log.Warn("forward: ticket update not delivered", "node", node, "ticket", u.Ticket, "final", u.Final(), "error", err)
		}
	}
}

func gzipJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(v); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
