package journal_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// testKey is a fixed signing key: the tests are deterministic.
var testKey = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))

// openSigned opens a journal that seals with testKey, on its own in-process
// connection to s.
func openSigned(t testing.TB, s *natsd.Server, edit ...func(*journal.Config)) *journal.Journal {
	t.Helper()
	nc := privileged(t, s)
	// Seals at the clean stop only, unless edited: the streams the tests
	// compare are the same however slow the machine.
	cfg := journal.Config{Conn: nc, Gateway: "gw1", Signer: testKey, SealEvery: time.Hour}
	for _, e := range edit {
		e(&cfg)
	}
	j, err := journal.Open(waitCtx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = j.Close(ctx)
	})
	return j
}

// privileged is a connection with every permission on the server: what a
// compromised broker, or an operator with the server's own access, has.
func privileged(t testing.TB, s *natsd.Server) *nats.Conn {
	t.Helper()
	nc, err := s.Connect(nats.Name(t.Name() + " (privileged)"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// writeJournal appends n checkout events in batches of batch, waits for
// them and closes the journal cleanly (which seals the chain).
func writeJournal(t *testing.T, j *journal.Journal, n, batch int) {
	t.Helper()
	ctx := waitCtx(t)
	var last *journal.Commit
	for i := 0; i < n; i += batch {
		evs := make([]events.Event, 0, batch)
		for k := i; k < min(n, i+batch); k++ {
			evs = append(evs, ev(k))
		}
		last = j.Append(evs)
	}
	if err := last.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// rawStream reads every message of the journal stream, in order.
func rawStream(t testing.TB, nc *nats.Conn) []*jetstream.RawStreamMsg {
	t.Helper()
	js, _ := jetstream.New(nc)
	return readAll(waitCtx(t), t, js, events.DefaultStream)
}

// rewriteStream replaces the journal stream with the messages edit returns
// (subject and payload), as a compromised broker could: the stream is
// deleted and created again, and sequences restart at 1.
func rewriteStream(t *testing.T, nc *nats.Conn, edit func([]*nats.Msg) []*nats.Msg) {
	t.Helper()
	ctx := waitCtx(t)
	var msgs []*nats.Msg
	for _, m := range rawStream(t, nc) {
		msgs = append(msgs, &nats.Msg{Subject: m.Subject, Data: m.Data})
	}
	msgs = edit(msgs)
	js, _ := jetstream.New(nc)
	st, err := js.Stream(ctx, events.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	if err := js.DeleteStream(ctx, events.DefaultStream); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
}

func sum(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// fields decodes a payload into a map, to edit it.
func fields(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func encode(t *testing.T, m map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestChainLinksEveryEvent checks the stored bytes: every event names the
// SHA-256 of the stored payload before it, the first 64 zeros, and the
// clean stop ends the stream with a seal over the last event, signed with
// the gateway's key.
func TestChainLinksEveryEvent(t *testing.T) {
	s := natstest.Start(t)
	writeJournal(t, openSigned(t, s), 50, 7)
	msgs := rawStream(t, privileged(t, s))
	if len(msgs) < 52 {
		t.Fatalf("stream holds %d messages, want 50 events, a term event and a seal", len(msgs))
	}
	prev := strings.Repeat("0", 64)
	for _, m := range msgs {
		f := fields(t, m.Data)
		if f["prev"] != prev {
			t.Fatalf("message %d: prev %v, want %s", m.Sequence, f["prev"], prev)
		}
		prev = sum(m.Data)
	}
	last := msgs[len(msgs)-1]
	if last.Subject != "licensegw.events._journal.seal" {
		t.Fatalf("last message %s, want the seal of the clean stop", last.Subject)
	}
	seal, err := journal.ParseSeal(last.Data)
	if err != nil {
		t.Fatal(err)
	}
	if seal.Head != sum(msgs[len(msgs)-2].Data) || seal.Count != uint64(len(msgs)-1) {
		t.Errorf("seal head %s count %d, want %s and %d", seal.Head, seal.Count, sum(msgs[len(msgs)-2].Data), len(msgs)-1)
	}
	if !seal.Verify(testKey.Public().(ed25519.PublicKey)) {
		t.Error("the seal's signature does not verify")
	}
	_, other, _ := ed25519.GenerateKey(nil)
	if seal.Verify(other.Public().(ed25519.PublicKey)) {
		t.Error("the seal verifies with another key")
	}

	v, err := journal.Verify(waitCtx(t), journal.Stream{Conn: privileged(t, s)}, 0, testKey.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if v.Counted != uint64(len(msgs)) || v.LastSeal == nil || v.LastSeal.Seq != last.Sequence || v.Unsealed != 0 {
		t.Errorf("verified %d events, last seal %+v, %d unsealed; want %d, seal at %d, 0", v.Counted, v.LastSeal, v.Unsealed, len(msgs), last.Sequence)
	}
}

// TestSealsWhileEventsHappen: without a stop, a seal follows the events
// within the seal interval.
func TestSealsWhileEventsHappen(t *testing.T) {
	s := natstest.Start(t)
	j := openSigned(t, s, func(c *journal.Config) { c.SealEvery = 50 * time.Millisecond })
	if err := j.Append([]events.Event{ev(1)}).Wait(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	nc := privileged(t, s)
	deadline := time.Now().Add(20 * time.Second)
	for {
		msgs := rawStream(t, nc)
		if last := msgs[len(msgs)-1]; last.Subject == "licensegw.events._journal.seal" {
			if len(msgs) != 3 {
				t.Fatalf("stream holds %d messages, want term, event, seal", len(msgs))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no seal after the event")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Nothing new: no seal of nothing.
	if err := j.Close(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	if n := len(rawStream(t, nc)); n != 3 {
		t.Errorf("stream holds %d messages after a stop with nothing unsealed, want 3", n)
	}
}

// tamper cases: each edits a sealed stream of 40 events (sequence 1 is the
// term event, 2-41 the events, 42 the seal) and names the sequence the
// verifier must report.
func tamperCases(t *testing.T) []struct {
	name string
	edit func([]*nats.Msg) []*nats.Msg
	seq  uint64
} {
	return []struct {
		name string
		edit func([]*nats.Msg) []*nats.Msg
		seq  uint64
	}{
		{"change", func(m []*nats.Msg) []*nats.Msg {
			f := fields(t, m[19].Data) // sequence 20
			f["user"] = "mallory"
			m[19].Data = encode(t, f)
			return m
		}, 20},
		{"insert", func(m []*nats.Msg) []*nats.Msg {
			// A forged checkout that fits where it stands: the next idx,
			// the right prev. The event after it repeats its idx.
			f := fields(t, m[18].Data) // sequence 19
			f["prev"] = sum(m[18].Data)
			f["idx"] = f["idx"].(float64) + 1
			f["lease"], f["user"], f["id"] = "forged", "mallory", "01ZZZZZZZZZZZZZZZZZZZZZZZZ"
			forged := &nats.Msg{Subject: m[18].Subject, Data: encode(t, f)}
			return append(m[:19:19], append([]*nats.Msg{forged}, m[19:]...)...)
		}, 20},
		{"remove", func(m []*nats.Msg) []*nats.Msg {
			return append(m[:19:19], m[20:]...) // sequence 20 goes
		}, 20},
		{"remove_last_event", func(m []*nats.Msg) []*nats.Msg {
			return append(m[:40:40], m[41:]...) // the seal now follows 40
		}, 41},
		{"forged_seal", func(m []*nats.Msg) []*nats.Msg {
			f := fields(t, m[41].Data)
			f["count"] = f["count"].(float64) + 1
			m[41].Data = encode(t, f)
			return m
		}, 42},
		{"rewritten_chain", func(m []*nats.Msg) []*nats.Msg {
			// Change one event and recompute every prev (and the seal's
			// head) after it: only the signature tells.
			f := fields(t, m[9].Data)
			f["user"] = "mallory"
			m[9].Data = encode(t, f)
			for i := 10; i < len(m); i++ {
				g := fields(t, m[i].Data)
				g["prev"] = sum(m[i-1].Data)
				if _, ok := g["head"]; ok {
					g["head"] = g["prev"]
				}
				m[i].Data = encode(t, g)
			}
			return m
		}, 42},
	}
}

// TestTamperIsDetected rewrites the stream with full access to the server
// and checks that verification and a replay name the sequence, that the
// replay applied nothing from there, that a journal does not open on a
// broken tail, and that a repair drops exactly the events from the break
// on, after which the chain continues.
func TestTamperIsDetected(t *testing.T) {
	pub := testKey.Public().(ed25519.PublicKey)
	for _, tc := range tamperCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			s := natstest.Start(t)
			writeJournal(t, openSigned(t, s), 40, 6)
			nc := privileged(t, s)
			if n := len(rawStream(t, nc)); n != 42 {
				t.Fatalf("stream holds %d messages, want 42", n)
			}
			rewriteStream(t, nc, tc.edit)
			ctx := waitCtx(t)

			_, err := journal.Verify(ctx, journal.Stream{Conn: nc}, 0, pub)
			assertBreak(t, "verify", err, tc.seq)

			// A journal opens (its tail verifies from the last seal)
			// only when the break is before that seal.
			j, err := journal.Open(ctx, journal.Config{Conn: nc, Gateway: "gw2", Signer: testKey})
			if err != nil {
				assertBreak(t, "open", err, tc.seq)
			} else {
				var applied []uint64
				_, err = j.Replay(ctx, 0, func(seq uint64, _ events.Event) error {
					applied = append(applied, seq)
					return nil
				})
				assertBreak(t, "replay", err, tc.seq)
				if len(applied) > 0 && applied[len(applied)-1] >= tc.seq {
					t.Errorf("replay applied events up to %d, at or after the break at %d", applied[len(applied)-1], tc.seq)
				}
				_ = j.Close(ctx)
			}

			brk, dropped, err := journal.Repair(ctx, journal.Stream{Conn: nc}, false, pub)
			if err != nil || brk == nil || brk.Seq != tc.seq {
				t.Fatalf("Repair = %v, %v, want a break at %d", brk, err, tc.seq)
			}
			last := rawStream(t, nc)
			if dropped[0].Seq != tc.seq || last[len(last)-1].Sequence != tc.seq-1 {
				t.Errorf("repair dropped from %d and kept up to %d, want the break at %d dropped and everything before it kept",
					dropped[0].Seq, last[len(last)-1].Sequence, tc.seq)
			}
			if _, err := journal.Verify(ctx, journal.Stream{Conn: nc}, 0, pub); err != nil {
				t.Fatalf("after repair: %v", err)
			}
			// The next writer continues the chain from the last valid
			// event.
			writeJournal(t, openSigned(t, s), 3, 3)
			v, err := journal.Verify(ctx, journal.Stream{Conn: nc}, 0, pub)
			if err != nil || v.Unsealed != 0 || v.LastSeal == nil {
				t.Fatalf("after repair and a new writer: %v (last seal %+v, %d unsealed)", err, v.LastSeal, v.Unsealed)
			}
		})
	}
}

func assertBreak(t *testing.T, what string, err error, seq uint64) {
	t.Helper()
	var brk *journal.BreakError
	if !errors.As(err, &brk) || !errors.Is(err, journal.ErrBroken) {
		t.Fatalf("%s: error %v, want a break at %d", what, err, seq)
	}
	if brk.Seq != seq {
		t.Fatalf("%s: break at %d (%v), want %d", what, brk.Seq, err, seq)
	}
}

// TestUnchainedStreamStillStarts: a stream written before the chain (v1
// events without term, then version 2 events without prev) replays in
// full, and the chain starts at the first event with prev, which names the
// last event before it.
func TestUnchainedStreamStillStarts(t *testing.T) {
	s := natstest.Start(t)
	nc := privileged(t, s)
	old, err := journal.Open(waitCtx(t), journal.Config{Conn: nc, Gateway: "old", Unchained: true})
	if err != nil {
		t.Fatal(err)
	}
	writeJournal(t, old, 5, 5)
	// Three v1 events at the start of the stream, as a version 1 gateway
	// wrote them: no term, no idx, no prev.
	rewriteStream(t, nc, func(m []*nats.Msg) []*nats.Msg {
		var v1 []*nats.Msg
		for i := range 3 {
			e := ev(100 + i)
			e.Schema, e.ID = events.Schema, "01A"+strings.Repeat("0", 22)+string(rune('A'+i))
			b, _ := json.Marshal(e)
			v1 = append(v1, &nats.Msg{Subject: e.Subject(events.DefaultPrefix), Data: b})
		}
		return append(v1, m...)
	})
	writeJournal(t, openSigned(t, s), 4, 2)

	v, err := journal.Verify(waitCtx(t), journal.Stream{Conn: nc}, 0, testKey.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if v.Unchained != 9 || v.LastSeal == nil || v.Unsealed != 0 { // 3 v1, a term and 5 events
		t.Errorf("verified: %d unchained, last seal %+v, %d unsealed; want 9 unchained, sealed", v.Unchained, v.LastSeal, v.Unsealed)
	}
	msgs := rawStream(t, nc)
	if f := fields(t, msgs[9].Data); f["prev"] != sum(msgs[8].Data) {
		t.Errorf("the first chained event's prev %v, want the hash of the last unchained event", f["prev"])
	}
	j := openSigned(t, s)
	n := 0
	if _, err := j.Replay(waitCtx(t), 0, func(uint64, events.Event) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 12 {
		t.Errorf("replayed %d events, want 12", n)
	}
}

// TestKeyRotation: after the signing key is replaced, seals the old key
// made verify only when it is trusted; the new writer seals with the new.
func TestKeyRotation(t *testing.T) {
	s := natstest.Start(t)
	writeJournal(t, openSigned(t, s), 5, 5)
	newKey := ed25519.NewKeyFromSeed([]byte("0123456789abcdef0123456789abcdef"))
	oldPub, newPub := testKey.Public().(ed25519.PublicKey), newKey.Public().(ed25519.PublicKey)
	nc := privileged(t, s)

	// Not trusted: the last seal is another key's, and the start stops.
	_, err := journal.Open(waitCtx(t), journal.Config{Conn: nc, Gateway: "gw1", Signer: newKey, SealEvery: time.Hour})
	assertBreak(t, "open without the old key", err, 7)

	writeJournal(t, openSigned(t, s, func(c *journal.Config) { c.Signer, c.Trusted = newKey, []ed25519.PublicKey{oldPub} }), 5, 5)
	if _, err := journal.Verify(waitCtx(t), journal.Stream{Conn: nc}, 0, newPub, oldPub); err != nil {
		t.Fatalf("verify with both keys: %v", err)
	}
	_, err = journal.Verify(waitCtx(t), journal.Stream{Conn: nc}, 0, newPub)
	assertBreak(t, "verify with the new key alone", err, 7)
}
