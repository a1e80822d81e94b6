package journal

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

// ErrBadSeal is the cause reported for a seal payload that is not a
// well-formed seal (see ParseSeal).
var ErrBadSeal = errors.New("journal: malformed seal")

// Seal is a parsed seal event: it closes the hash chain up to the event
// whose payload hashes to Head, and signs that with the gateway's key.
type Seal struct {
	Term, Idx uint64
	Head      string    // lowercase hex SHA-256 of the sealed event's payload
	Count     uint64    // counted events up to and including the sealed one
	Time      time.Time // the seal's time, as signed
	Node      string
	Sig       []byte // Ed25519 signature of Text()
}

// ParseSeal decodes a seal's payload and checks its form: schema
// licensegw.seal/v1, kind seal, a term, head a lowercase hex SHA-256 equal
// to prev, a positive count and a 64-byte base64url (unpadded) signature.
// It does not check the signature (Verify does).
func ParseSeal(data []byte) (Seal, error) {
	var ev events.Event
	if err := decodeEvent(data, &ev, nil); err != nil {
		return Seal{}, fmt.Errorf("%w: %w", ErrBadSeal, err)
	}
	return sealOf(&ev)
}

// sealOf checks a decoded seal event's form.
func sealOf(ev *events.Event) (Seal, error) {
	bad := func(format string, args ...any) (Seal, error) {
		return Seal{}, fmt.Errorf("%w: "+format, append([]any{ErrBadSeal}, args...)...)
	}
	switch {
	case ev.Schema != events.SealSchema:
		return bad("schema %q, want %q", ev.Schema, events.SealSchema)
	case ev.Kind != events.SealKind:
		return bad("kind %q, want %q", ev.Kind, events.SealKind)
	case ev.Term == 0:
		return bad("no term")
	case !isHash(ev.Head):
		return bad("head %q is not a lowercase hex SHA-256", ev.Head)
	case ev.Prev != ev.Head:
		return bad("head %s is not its prev %s", ev.Head, ev.Prev)
	case ev.Count <= 0:
		return bad("count %d is not positive", ev.Count)
	}
	sig, err := base64.RawURLEncoding.DecodeString(ev.Sig)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return bad("sig is not a base64url Ed25519 signature")
	}
	return Seal{Term: ev.Term, Idx: ev.Idx, Head: ev.Head, Count: uint64(ev.Count), Time: ev.Time, Node: ev.Node, Sig: sig}, nil
}

// Text is what the seal's signature signs:
// "LGWSEAL1 term=<term> idx=<idx> head=<head> count=<count> time=<time>",
// time as events write it (RFC 3339 UTC with microseconds).
func (s Seal) Text() []byte {
	return sealText(s.Term, s.Idx, s.Head, s.Count, s.Time)
}

func sealText(term, idx uint64, head string, count uint64, t time.Time) []byte {
	b := make([]byte, 0, 160)
	b = append(b, "LGWSEAL1 term="...)
	b = strconv.AppendUint(b, term, 10)
	b = append(b, " idx="...)
	b = strconv.AppendUint(b, idx, 10)
	b = append(b, " head="...)
	b = append(b, head...)
	b = append(b, " count="...)
	b = strconv.AppendUint(b, count, 10)
	b = append(b, " time="...)
	return t.UTC().AppendFormat(b, events.TimeLayout)
}

// Verify reports whether the seal's signature is key's.
func (s Seal) Verify(key ed25519.PublicKey) bool {
	return len(key) == ed25519.PublicKeySize && ed25519.Verify(key, s.Text(), s.Sig)
}

// signSeal completes a seal event: head, count and the signature. ev has
// its term, idx, prev and time already.
func signSeal(ev *events.Event, count uint64, key ed25519.PrivateKey) {
	ev.Schema = events.SealSchema
	ev.Head = ev.Prev
	ev.Count = int(count)
	sig := ed25519.Sign(key, sealText(ev.Term, ev.Idx, ev.Head, count, ev.Time))
	ev.Sig = base64.RawURLEncoding.EncodeToString(sig)
}

// ParsePublicKey decodes a public key as licensegw shows it: base64url
// without padding (signing.PublicText), or with padding.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.URLEncoding.DecodeString(s)
	}
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("journal: %q is not a base64url Ed25519 public key", s)
	}
	return ed25519.PublicKey(b), nil
}

// sealer queues a seal every Config.SealEvery while events are appended,
// until Close (which queues the last one).
func (j *Journal) sealer() {
	t := time.NewTicker(j.cfg.SealEvery)
	defer t.Stop()
	for {
		select {
		case <-j.drain:
			return
		case <-t.C:
			j.mu.Lock()
			queued := !j.closing && j.queueSealLocked(time.Now())
			j.mu.Unlock()
			if queued {
				j.poke()
			}
		}
	}
}

// queueSealLocked queues a seal after the events appended since the last
// one, if there are any. j.mu is held. The publisher fills in its prev,
// head, count and signature when it encodes it, in stream order.
func (j *Journal) queueSealLocked(now time.Time) bool {
	if j.sinceSeal == 0 || j.deposed.Load() != nil {
		return false
	}
	j.sinceSeal = 0
	c := &Commit{done: make(chan struct{}), remaining: 1}
	c.events = c.one[:]
	// The seal's time is its head's, so that times stay in stream order
	// (later events may carry a time taken before now).
	c.events[0] = events.Event{Kind: events.SealKind, Schema: events.SealSchema, Gateway: j.cfg.Gateway, Time: j.lastTime, ID: j.newID(now)}
	j.queue = append(j.queue, pending{commit: c})
	return true
}
