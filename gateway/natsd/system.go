package natsd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// A clustered server declares the system account ($SYS, the name every
// nats-server uses by default, so nodes of other versions agree) so that
// the gateway has an in-process identity in it: the JetStream meta
// leader's step-down is a system account request. The global account
// stays the only other one, so JetStream is enabled for it as before.

// withSystemAccount declares the system account explicitly.
func withSystemAccount(opts *server.Options) {
	opts.Accounts = append(opts.Accounts, server.NewAccount(server.DEFAULT_SYSTEM_ACCOUNT))
	opts.SystemAccount = server.DEFAULT_SYSTEM_ACCOUNT
}

// systemAccount is the declared system account, nil when none is.
func systemAccount(opts *server.Options) *server.Account {
	for _, a := range opts.Accounts {
		if a.Name == server.DEFAULT_SYSTEM_ACCOUNT && opts.SystemAccount == a.Name {
			return a
		}
	}
	return nil
}

// ErrNotClustered is MoveMetaLeader's error on a server outside a cluster.
var ErrNotClustered = errors.New("natsd: not in a cluster")

// MetaLeader is the JetStream meta leader's name ("" while none leads).
func (s *Server) MetaLeader() string {
	leader, _ := s.ClusterHealth()
	return leader
}

// MoveMetaLeader asks the JetStream meta leader to step down when it is this
// server, preferring preferred (a current peer; "" lets it choose), and
// waits until another server leads the meta group or ctx ends. It reports
// whether it moved it. While the meta leader is re-elected no stream or
// consumer can be created (a new gateway leader's replay needs one), so a
// leader's host should not also be the meta leader.
func (s *Server) MoveMetaLeader(ctx context.Context, preferred string) (bool, error) {
	if systemAccount(s.opts) == nil {
		return false, ErrNotClustered
	}
	self := s.ns.Name()
	if s.MetaLeader() != self {
		return false, nil
	}
	nc, err := nats.Connect("", nats.InProcessServer(s.ns), nats.Name("licensegw system"), nats.Nkey(s.gw.sysPub, s.gw.sysKP.Sign))
	if err != nil {
		return false, fmt.Errorf("natsd: system connection: %w", err)
	}
	defer nc.Close()
	var req []byte
	if preferred != "" {
		req, _ = json.Marshal(map[string]any{"placement": map[string]string{"preferred": preferred}})
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	msg, err := nc.RequestWithContext(rctx, "$JS.API.META.LEADER.STEPDOWN", req)
	cancel()
	if err != nil {
		return false, fmt.Errorf("natsd: meta leader step-down: %w", err)
	}
	var resp struct {
		Error *struct {
			Description string `json:"description"`
		} `json:"error"`
	}
	if json.Unmarshal(msg.Data, &resp) == nil && resp.Error != nil {
		return false, fmt.Errorf("natsd: meta leader step-down refused: %s", resp.Error.Description)
	}
	for {
		if l := s.MetaLeader(); l != "" && l != self {
			return true, nil
		}
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("natsd: meta leader still %s: %w", self, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
