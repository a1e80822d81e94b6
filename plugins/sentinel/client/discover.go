package client

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/licensegw/licensegw/plugins/sentinel/wire"
)

// Found is a server that answered a discovery.
type Found struct {
	Addr   *net.UDPAddr
	Server wire.Server
}

// Discover asks every address in addrs ("host", "host:port", or a
// broadcast address such as "255.255.255.255:5093") who serves feature and
// returns the first server that answers. Servers that do not serve the
// feature stay silent. The question is resent with backoff as by a Client
// with opts until an answer comes; ErrNoServer when none does.
func Discover(ctx context.Context, feature string, addrs []string, opts Options) (*Found, error) {
	opts = opts.withDefaults()
	var targets []server
	for _, a := range addrs {
		ua, err := resolve(a)
		if err != nil {
			return nil, err
		}
		targets = append(targets, server{name: a, addr: ua})
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("discover %q: no addresses: %w", feature, ErrNoServer)
	}
	conn, err := listenBroadcast(localFor(targets))
	if err != nil {
		return nil, fmt.Errorf("sentinel client: %w", err)
	}
	defer conn.Close()
	c := newClient(conn, targets, opts)
	c.nextID++
	b, err := wire.EncodeRequest(&wire.Request{ID: c.nextID, Type: wire.Discover, Feature: feature}, discoverSize)
	if err != nil {
		return nil, err
	}
	waits := opts.retransmissions()
	for attempt := 0; opts.Attempts < 0 || attempt < opts.Attempts; attempt++ {
		for _, t := range targets {
			// One unreachable address must not stop the others.
			_, _ = conn.WriteTo(b, t.addr)
		}
		f, err := c.awaitAny(ctx, c.nextID, waits.NextBackOff())
		if err != nil {
			return nil, fmt.Errorf("discover %q: %w (%w)", feature, ErrNoServer, err)
		}
		if f != nil {
			return f, nil
		}
	}
	return nil, fmt.Errorf("discover %q: %w", feature, ErrNoServer)
}

// awaitAny reads the first discover answer with id from anyone.
func (c *Client) awaitAny(ctx context.Context, id uint64, wait time.Duration) (*Found, error) {
	return readUntil(ctx, c, wait, func(data []byte, from net.Addr) (*Found, bool) {
		resp, err := wire.DecodeResponse(data)
		if err != nil || resp.ID != id || resp.Type != wire.Discover || resp.Status != wire.OK {
			return nil, false
		}
		ua, _ := from.(*net.UDPAddr)
		return &Found{Addr: ua, Server: resp.Server}, true
	})
}
