package journal

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

var sealKey = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))

// sealEvent is a seal as the publisher writes it.
func sealEvent(t testing.TB) (events.Event, []byte) {
	t.Helper()
	ev := events.Event{
		Kind: events.SealKind, ID: "01JDXSEAL", Gateway: "gw", Term: 3, Idx: 17, Node: "gw",
		Time: time.Date(2026, 11, 29, 14, 0, 0, 123456789, time.UTC), Prev: strings.Repeat("ab", 32),
	}
	signSeal(&ev, 42, sealKey)
	data, err := encodeEvent(&ev)
	if err != nil {
		t.Fatal(err)
	}
	return ev, data
}

func TestSealSignsItsText(t *testing.T) {
	_, data := sealEvent(t)
	s, err := ParseSeal(data)
	if err != nil {
		t.Fatal(err)
	}
	want := "LGWSEAL1 term=3 idx=17 head=" + strings.Repeat("ab", 32) + " count=42 time=2026-11-29T14:00:00.123456Z"
	if string(s.Text()) != want {
		t.Errorf("Text() = %q\nwant     %q", s.Text(), want)
	}
	pub := sealKey.Public().(ed25519.PublicKey)
	if !s.Verify(pub) {
		t.Fatal("the seal does not verify with its key")
	}
	_, other, _ := ed25519.GenerateKey(nil)
	if s.Verify(other.Public().(ed25519.PublicKey)) || s.Verify(nil) {
		t.Error("the seal verifies with another key or none")
	}
	// Each signed field matters.
	for name, edit := range map[string]func(*Seal){
		"term":  func(s *Seal) { s.Term++ },
		"idx":   func(s *Seal) { s.Idx++ },
		"head":  func(s *Seal) { s.Head = strings.Repeat("cd", 32) },
		"count": func(s *Seal) { s.Count-- },
		"time":  func(s *Seal) { s.Time = s.Time.Add(time.Microsecond) },
	} {
		c := s
		edit(&c)
		if c.Verify(pub) {
			t.Errorf("a seal with another %s verifies", name)
		}
	}
}

func TestParseSealRejects(t *testing.T) {
	good, _ := sealEvent(t)
	for name, edit := range map[string]func(*events.Event){
		"schema":       func(e *events.Event) { e.Schema = events.Schema },
		"kind":         func(e *events.Event) { e.Kind = events.Checkout },
		"no term":      func(e *events.Event) { e.Term = 0 },
		"short head":   func(e *events.Event) { e.Head = "abcd"; e.Prev = e.Head },
		"upper head":   func(e *events.Event) { e.Head = strings.Repeat("AB", 32); e.Prev = e.Head },
		"head != prev": func(e *events.Event) { e.Prev = strings.Repeat("cd", 32) },
		"count 0":      func(e *events.Event) { e.Count = 0 },
		"count < 0":    func(e *events.Event) { e.Count = -1 },
		"sig padded":   func(e *events.Event) { e.Sig += "==" },
		"sig short":    func(e *events.Event) { e.Sig = e.Sig[:40] },
		"sig absent":   func(e *events.Event) { e.Sig = "" },
	} {
		ev := good
		edit(&ev)
		data, _ := encodeEvent(&ev)
		if _, err := ParseSeal(data); !errors.Is(err, ErrBadSeal) {
			t.Errorf("%s: ParseSeal = %v, want ErrBadSeal", name, err)
		}
	}
	for _, data := range []string{"", "{", "[]", `{"kind":"seal"}`, "null"} {
		if _, err := ParseSeal([]byte(data)); !errors.Is(err, ErrBadSeal) {
			t.Errorf("ParseSeal(%q) = %v, want ErrBadSeal", data, err)
		}
	}
}

// FuzzParseSeal: any payload either is refused with ErrBadSeal or parses
// into a seal that, written again, parses to the same seal, and verifies
// only if its signature is the key's over the same text.
func FuzzParseSeal(f *testing.F) {
	_, data := sealEvent(f)
	f.Add(data)
	f.Add([]byte(`{"schema":"licensegw.seal/v1","kind":"seal","term":1,"idx":0,"prev":"` + strings.Repeat("0", 64) + `","head":"` + strings.Repeat("0", 64) + `","count":1,"sig":"` + strings.Repeat("A", 86) + `","time":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"schema":"licensegw.seal/v1","kind":"seal","term":-1}`))
	pub := sealKey.Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSeal(data)
		if err != nil {
			if !errors.Is(err, ErrBadSeal) {
				t.Fatalf("error %v is not ErrBadSeal", err)
			}
			return
		}
		if !isHash(s.Head) || s.Count == 0 || len(s.Sig) != ed25519.SignatureSize || s.Term == 0 {
			t.Fatalf("parsed a malformed seal: %+v", s)
		}
		again := events.Event{Kind: events.SealKind, Term: s.Term, Idx: s.Idx, Node: s.Node, Time: s.Time, Prev: s.Head}
		signSeal(&again, s.Count, sealKey)
		b, err := encodeEvent(&again)
		if err != nil {
			t.Skip(err) // a time MarshalJSON refuses
		}
		s2, err := ParseSeal(b)
		if err != nil {
			t.Fatalf("a seal written again does not parse: %v\n%s", err, b)
		}
		if s2.Term != s.Term || s2.Idx != s.Idx || s2.Head != s.Head || s2.Count != s.Count {
			t.Fatalf("round trip: %+v, want %+v", s2, s)
		}
		if !s2.Verify(pub) {
			t.Fatalf("a seal signed again does not verify: %s", b)
		}
		// The fuzzer's own signature verifies only if it is ours over
		// this very text, which it cannot forge.
		if s.Verify(pub) && string(s.Sig) != string(ed25519.Sign(sealKey, s.Text())) {
			t.Fatal("a signature verifies that the key did not make")
		}
	})
}

// BenchmarkChainCost is what the chain adds to each event, beside what
// encoding it costs: the SHA-256 of its payload and its hex prev, and for
// a verifier the check of one event; and what one seal's signature costs.
func BenchmarkChainCost(b *testing.B) {
	ev := sampleEvents()[1]
	ev.Prev = zeroHash
	data, _ := encodeEvent(&ev)
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			if _, err := encodeEvent(&ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hash+prev", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			_ = hexHash(sha256.Sum256(data))
		}
	})
	b.Run("sign-seal", func(b *testing.B) {
		s, _ := sealEvent(b)
		for b.Loop() {
			signSeal(&s, 42, sealKey)
		}
	})
	b.Run("verify-seal", func(b *testing.B) {
		_, sd := sealEvent(b)
		s, _ := ParseSeal(sd)
		pub := sealKey.Public().(ed25519.PublicKey)
		for b.Loop() {
			if !s.Verify(pub) {
				b.Fatal("no")
			}
		}
	})
}
