package concurrentlm

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/licensegw/licensegw/plugins/concurrentlm/wire"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// verifyGrant checks sig= on a GRANTED or EVENT granted line against the
// contract's text, built here independently of sdk.GrantText.
func verifyGrant(t *testing.T, key ed25519.PublicKey, m wire.Message, user, host, nonce string) {
	t.Helper()
	text := fmt.Sprintf("CLM1 lease=%s feature=%s count=%s user=%s host=%s expires=%s nonce=%s",
		m.Get("lease"), m.Get("feature"), m.Get("count"), user, host, m.Get("expires"), nonce)
	sig, err := base64.RawURLEncoding.DecodeString(m.Get("sig"))
	if err != nil || !ed25519.Verify(key, []byte(text), sig) {
		t.Fatalf("sig=%q does not verify over %q", m.Get("sig"), text)
	}
}

// TestSignedOnlyWithNonce is the 2026-11-29 revision of "Signed grants":
// sig= only on grants answering a CHECKOUT that carried nonce=, queued
// grants signed with the queuing CHECKOUT's nonce, and the nonce alphabet
// of the contract.
func TestSignedOnlyWithNonce(t *testing.T) {
	seats := newSeats(sdktest.Feature{Name: "solo", Seats: 1, Queue: true})
	h := start(t, seats, nil)
	c := h.dial(t)
	key, err := base64.RawURLEncoding.DecodeString(c.call("HELLO").Get("key"))
	if err != nil || len(key) != ed25519.PublicKeySize {
		t.Fatalf("HELLO key: %v", err)
	}

	g := c.call("CHECKOUT feature=solo user=a host=h id=1")
	want(t, g, "GRANTED", "id", "1")
	if _, ok := g.Lookup("sig"); ok {
		t.Fatalf("a grant without nonce= carries sig=: %+v", g)
	}
	want(t, c.call("CHECKIN lease="+g.Get("lease")), "OK")

	g = c.call("CHECKOUT feature=solo user=a host=h nonce=Xa9k2LqP0sWv7yHnRt4eZQ id=2")
	want(t, g, "GRANTED", "id", "2")
	verifyGrant(t, key, g, "a", "h", "Xa9k2LqP0sWv7yHnRt4eZQ")

	// Queued: the EVENT granted is signed with the queuing CHECKOUT's nonce;
	// a queued CHECKOUT without one gets an unsigned EVENT.
	signed, unsigned := h.dial(t), h.dial(t)
	want(t, signed.call("CHECKOUT feature=solo user=s host=hs wait=60 nonce=q_nonce-1"), "QUEUED")
	want(t, unsigned.call("CHECKOUT feature=solo user=u host=hu wait=60"), "QUEUED")
	want(t, c.call("CHECKIN lease="+g.Get("lease")), "OK")
	ev := signed.msg()
	want(t, ev, "EVENT", "feature", "solo")
	if ev.Sub != "granted" {
		t.Fatalf("signed waiter: %+v", ev)
	}
	verifyGrant(t, key, ev, "s", "hs", "q_nonce-1")
	want(t, signed.call("CHECKIN lease="+ev.Get("lease")), "OK")
	ev = unsigned.msg()
	if ev.Sub != "granted" {
		t.Fatalf("unsigned waiter: %+v", ev)
	}
	if _, ok := ev.Lookup("sig"); ok {
		t.Fatalf("EVENT granted for a CHECKOUT without nonce= carries sig=: %+v", ev)
	}
	want(t, unsigned.call("CHECKIN lease="+ev.Get("lease")), "OK")

	// The contract's nonce alphabet is [A-Za-z0-9_-], 1 to 64 characters.
	for _, bad := range []string{"nonce=", "nonce=a.b", "nonce=" + strings.Repeat("n", 65), "nonce=\"a b\""} {
		want(t, c.call("CHECKOUT feature=solo user=a host=h id=b "+bad), "ERR", "code", "bad-request", "id", "b")
	}
	want(t, c.call("CHECKOUT feature=solo user=a host=h nonce="+strings.Repeat("n", 64)), "GRANTED")
}
