package e2etest

import (
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// maxDatagram bounds the datagrams a relay carries (UDP's own limit).
const maxDatagram = 64 << 10

// Loss says how a LossyRelay mistreats datagrams: each is dropped with
// probability Drop, otherwise held back 1..MaxDelay (overtaken by later
// ones) with probability Reorder, and independently sent a second time with
// probability Duplicate.
type Loss struct {
	Drop      float64
	Duplicate float64
	Reorder   float64
	MaxDelay  time.Duration // 20 ms when 0
	Seed      uint64        // the same seed makes the same decisions in the same order
}

// LossStats counts what a relay did.
type LossStats struct {
	Passed, Dropped, Duplicated, Reordered int64
}

// LossyRelay is a UDP relay between clients and one server. Each client
// address gets its own socket towards the server, so the server sees one
// source per client, as it would without the relay. Both directions suffer
// the same Loss.
type LossyRelay struct {
	front  net.PacketConn // clients send here
	server *net.UDPAddr
	loss   Loss

	mu        sync.Mutex
	rnd       *rand.Rand
	upstreams map[string]net.PacketConn // client address -> socket towards the server
	closed    bool

	wg                                     sync.WaitGroup
	passed, dropped, duplicated, reordered atomic.Int64
}

// NewLossyRelay relays datagrams sent to its Addr to server (host:port).
func NewLossyRelay(server string, loss Loss) (*LossyRelay, error) {
	to, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		return nil, err
	}
	front, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if loss.MaxDelay <= 0 {
		loss.MaxDelay = 20 * time.Millisecond
	}
	r := &LossyRelay{
		front: front, server: to, loss: loss,
		rnd:       rand.New(rand.NewPCG(loss.Seed, loss.Seed^0x9e3779b97f4a7c15)),
		upstreams: map[string]net.PacketConn{},
	}
	r.wg.Go(r.forward)
	return r, nil
}

// Addr is where clients send.
func (r *LossyRelay) Addr() string { return r.front.LocalAddr().String() }

// Stats counts the datagrams so far, both directions.
func (r *LossyRelay) Stats() LossStats {
	return LossStats{Passed: r.passed.Load(), Dropped: r.dropped.Load(), Duplicated: r.duplicated.Load(), Reordered: r.reordered.Load()}
}

// Close stops relaying and waits for the relay's readers to end.
func (r *LossyRelay) Close() error {
	r.mu.Lock()
	r.closed = true
	err := r.front.Close()
	for _, u := range r.upstreams {
		u.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
	return err
}

// forward relays client datagrams towards the server.
func (r *LossyRelay) forward() {
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := r.front.ReadFrom(buf)
		if err != nil {
			return
		}
		up, err := r.upstream(from)
		if err != nil {
			return
		}
		r.pass(append([]byte(nil), buf[:n]...), func(b []byte) { _, _ = up.WriteTo(b, r.server) })
	}
}

var errClosed = errors.New("relay closed")

// upstream is the socket for one client; its answers go back through front.
func (r *LossyRelay) upstream(client net.Addr) (net.PacketConn, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errClosed
	}
	if u, ok := r.upstreams[client.String()]; ok {
		return u, nil
	}
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r.upstreams[client.String()] = u
	r.wg.Go(func() {
		buf := make([]byte, maxDatagram)
		for {
			n, _, err := u.ReadFrom(buf)
			if err != nil {
				return
			}
			r.pass(append([]byte(nil), buf[:n]...), func(b []byte) { _, _ = r.front.WriteTo(b, client) })
		}
	})
	return u, nil
}

// pass sends b with send: not at all, later, now, and maybe twice.
func (r *LossyRelay) pass(b []byte, send func([]byte)) {
	r.mu.Lock()
	fate, twice := r.rnd.Float64(), r.rnd.Float64()
	wait := time.Duration(1 + r.rnd.Int64N(int64(r.loss.MaxDelay)))
	r.mu.Unlock()
	switch {
	case fate < r.loss.Drop:
		r.dropped.Add(1)
		return
	case fate < r.loss.Drop+r.loss.Reorder:
		r.reordered.Add(1)
		time.AfterFunc(wait, func() { send(b) })
	default:
		r.passed.Add(1)
		send(b)
	}
	if twice < r.loss.Duplicate {
		r.duplicated.Add(1)
		time.AfterFunc(wait/2, func() { send(b) })
	}
}
