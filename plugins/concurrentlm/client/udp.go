package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm/wire"
)

// UDPPad is the size UDPRequest pads datagrams to, so that any CLM/1 answer
// (a signed GRANTED included) fits in the server's 3x amplification bound.
const UDPPad = 256

// UDPRequest sends one request line (without id=, pad= or LF, e.g.
// "HEARTBEAT lease=l123") to a gateway's UDP port and returns the answer.
// It adds a random id= and padding, and retransmits the identical datagram
// after 1 s, 2 s, 4 s... until an answer comes or ctx ends; the gateway
// executes it at most once. An ERR answer is a *ServerError, DENIED a
// *DeniedError, GONE a *GoneError.
func UDPRequest(ctx context.Context, addr, line string) (wire.Message, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return wire.Message{}, fmt.Errorf("clm: udp %s: %w", addr, err)
	}
	defer nc.Close()
	id := newNonce()[:16]
	dgram := strings.TrimRight(line, "\r\n") + " id=" + id + " pad="
	dgram += strings.Repeat("x", max(1, UDPPad-len(dgram)))

	buf := make([]byte, 3*len(dgram)+1)
	wait := time.Second
	for {
		if _, err := nc.Write([]byte(dgram)); err != nil {
			return wire.Message{}, fmt.Errorf("clm: udp send: %w", err)
		}
		deadline := time.Now().Add(wait)
		if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
			deadline = dl
		}
		_ = nc.SetReadDeadline(deadline)
		for {
			n, err := nc.Read(buf)
			if err != nil {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					return wire.Message{}, fmt.Errorf("clm: udp receive: %w", err)
				}
				break // retransmit
			}
			m, err := wire.ParseMessage(string(buf[:n]))
			if err != nil || m.Get("id") != id {
				continue // not ours, or garbled: keep listening
			}
			switch m.Word {
			case "ERR", "DENIED", "GONE":
				return m, answerError(m)
			}
			return m, nil
		}
		if ctx.Err() != nil {
			return wire.Message{}, ctx.Err()
		}
		wait = min(2*wait, 8*time.Second)
	}
}
