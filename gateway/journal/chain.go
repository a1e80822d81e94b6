package journal

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

// zeroHash is the prev of a stream's first counted event.
const zeroHash = "0000000000000000000000000000000000000000000000000000000000000000"

// ErrBroken is the cause reported when the journal's hash chain does not
// hold: an event was changed, inserted or removed, or a seal is not the
// gateway's. The error is a *BreakError.
var ErrBroken = errors.New("journal: hash chain broken")

// BreakError says where the chain breaks. Seq is the first stream sequence
// that cannot be trusted: everything before it verified. At is where the
// evidence failed (the event whose prev, idx or signature does not hold),
// Seq or later.
type BreakError struct {
	Seq    uint64
	At     uint64
	Reason string
}

func (e *BreakError) Error() string {
	return fmt.Sprintf("journal: hash chain broken at stream sequence %d: %s", e.Seq, e.Reason)
}

func (e *BreakError) Unwrap() error { return ErrBroken }

// isHash reports whether s is a lowercase hex SHA-256.
func isHash(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func hexHash(h [sha256.Size]byte) string { return hex.EncodeToString(h[:]) }

// SealInfo describes the last valid seal a Verifier passed.
type SealInfo struct {
	Seq   uint64
	Time  time.Time
	Count uint64
}

// Verifier walks a journal stream in order and checks it as events v2
// says: the read rule, every counted event's prev, and every seal's head,
// count and signature. Feed it every message of the stream's events
// subjects, in stream order; it stops trusting at the first break.
//
// The first message fed anchors the walk. At stream sequence 1 it must be
// the start of the chain (prev 64 zeros, if it has one); later (a walk that
// starts after a snapshot, with --from, or after retention deleted older
// events), its own prev cannot be checked and is taken as given, and the
// count of events since the stream began is learnt from the first seal.
//
// Events written before version 2's chain carry no prev: they count by the
// read rule but cannot be verified. The chain starts at the first event
// that has a prev, which names the last counted event before it; after it,
// an event without prev is a break.
type Verifier struct {
	keys []ed25519.PublicKey // none: seals' signatures are not checked

	started    bool
	head       [sha256.Size]byte // hash of the last counted event
	headSeq    uint64
	term, idx  uint64 // the read rule's position (chained events)
	legacy     readRule
	chained    bool   // a counted event with prev has been seen
	strayed    bool   // a stray came after the last counted event
	count      uint64 // counted events since the stream began (if countKnown)
	countKnown bool
	broken     *BreakError

	// What the walk found, for reporting.
	First, Last uint64    // first and last sequence fed
	Counted     uint64    // counted events verified (chained or not)
	Unchained   uint64    // of them, events without prev (before the chain)
	Ignored     uint64    // stray appends the read rule ignores
	Unsealed    uint64    // counted events after the last valid seal
	LastSeal    *SealInfo // nil: no seal passed
	Signed      bool      // seals' signatures were checked (a key was given)
}

// NewVerifier returns a verifier that checks seals' signatures with key
// (nil: seals are checked for form, head and count, not signature). A seal
// signed by any of more (earlier keys, after a rotation) verifies too.
func NewVerifier(key ed25519.PublicKey, more ...ed25519.PublicKey) *Verifier {
	v := &Verifier{}
	for _, k := range append([]ed25519.PublicKey{key}, more...) {
		if k != nil {
			v.keys = append(v.keys, k)
		}
	}
	v.Signed = len(v.keys) > 0
	return v
}

// Count is the number of counted events since the stream began, and
// whether it is known (a walk from sequence 1, or one that passed a seal).
func (v *Verifier) Count() (uint64, bool) { return v.count, v.countKnown }

// Head is the lowercase hex SHA-256 of the last counted event, the prev of
// the next one (64 zeros before any).
func (v *Verifier) Head() string {
	if !v.started {
		return zeroHash
	}
	return hexHash(v.head)
}

// Feed checks the message at seq. It returns whether the event counts (by
// the read rule) and a *BreakError, the same from then on, once the chain
// is broken. ev is data decoded.
func (v *Verifier) Feed(seq uint64, data []byte, ev *events.Event) (counts bool, err error) {
	if v.broken != nil {
		return false, v.broken
	}
	if v.First == 0 {
		v.First = seq
	}
	v.Last = seq
	counts, brk := v.check(seq, data, ev)
	if brk != nil {
		v.broken = brk
		return false, brk
	}
	if !counts {
		v.Ignored++
		v.strayed = true
	}
	return counts, nil
}

// Err is the break found so far, or nil.
func (v *Verifier) Err() error {
	if v.broken == nil {
		return nil
	}
	return v.broken
}

func (v *Verifier) check(seq uint64, data []byte, ev *events.Event) (bool, *BreakError) {
	brk := func(at uint64, format string, args ...any) (bool, *BreakError) {
		return false, &BreakError{Seq: at, At: seq, Reason: fmt.Sprintf(format, args...)}
	}
	if ev.Prev == "" {
		return v.checkUnchained(seq, data, ev)
	}
	if !v.started {
		return v.anchor(seq, data, ev)
	}
	// The read rule. A deposed writer's pipelined appends can be stored
	// behind one of its appends that the fence refused: events of an
	// older term; of a newer term whose term event was refused (idx > 0:
	// the term never opened); of the current term past a refused idx. The
	// fence refuses an append only when another writer's message took its
	// place, so in the last case a stray always comes between the last
	// counted event and the gap; a gap right after a counted event is
	// events removed. Strays cannot hide tampering elsewhere either: the
	// next counted event must name the last counted one as its prev.
	switch {
	case ev.Term == 0:
		return brk(seq, "event %s has a prev but no term", ev.ID)
	case v.chained && ev.Term < v.term, ev.Term > v.term && ev.Idx != 0:
		return false, nil // a deposed writer's stray append
	case ev.Term == v.term && ev.Idx > v.idx+1 && v.strayed:
		return false, nil // past its own refused append
	case ev.Term == v.term && ev.Idx > v.idx+1:
		return brk(seq, "idx %d follows idx %d of term %d: events are missing before this one", ev.Idx, v.idx, ev.Term)
	case ev.Term == v.term && ev.Idx <= v.idx:
		return brk(v.headSeq, "the event at %d repeats idx %d of term %d: an event was inserted before it", seq, ev.Idx, ev.Term)
	}
	if ev.Prev != hexHash(v.head) {
		return brk(v.headSeq, "the event at %d names a predecessor whose SHA-256 is not that of the event at %d: %d was changed, or events after it removed",
			seq, v.headSeq, v.headSeq)
	}
	if ev.Kind == events.SealKind {
		if b := v.checkSeal(seq, ev); b != nil {
			return false, b
		}
	}
	v.advance(seq, data, ev)
	return true, nil
}

// checkUnchained takes an event without prev: before the chain, it counts
// by the lenient read rule of version 2 without chain; after, only a stray
// append may lack prev.
func (v *Verifier) checkUnchained(seq uint64, data []byte, ev *events.Event) (bool, *BreakError) {
	if v.chained {
		if ev.Term != 0 && ev.Term < v.term {
			return false, nil
		}
		return false, &BreakError{Seq: seq, At: seq, Reason: fmt.Sprintf("event %s has no prev, after the chain began", ev.ID)}
	}
	if !v.legacy.counts(ev) {
		return false, nil
	}
	if !v.started && seq == 1 {
		v.countKnown = true
	}
	v.advance(seq, data, ev)
	v.Unchained++
	return true, nil
}

// anchor takes the first chained event of the walk when nothing was fed
// before it: at sequence 1 it must open the stream; later its prev is taken
// as given.
func (v *Verifier) anchor(seq uint64, data []byte, ev *events.Event) (bool, *BreakError) {
	if ev.Term == 0 {
		return false, &BreakError{Seq: seq, At: seq, Reason: fmt.Sprintf("event %s has a prev but no term", ev.ID)}
	}
	if seq == 1 {
		if ev.Prev != zeroHash {
			return false, &BreakError{Seq: seq, At: seq, Reason: "the stream's first event names a predecessor"}
		}
		v.countKnown = true
	}
	if ev.Kind == events.SealKind {
		if b := v.checkSeal(seq, ev); b != nil {
			return false, b
		}
	}
	v.advance(seq, data, ev)
	return true, nil
}

// checkSeal checks a seal's form, count and signature; on success the
// count since the stream began is the seal's.
func (v *Verifier) checkSeal(seq uint64, ev *events.Event) *BreakError {
	s, err := sealOf(ev)
	if err != nil {
		return &BreakError{Seq: seq, At: seq, Reason: err.Error()}
	}
	if v.countKnown && s.Count != v.count {
		return &BreakError{Seq: seq, At: seq, Reason: fmt.Sprintf("the seal counts %d events, but %d precede it", s.Count, v.count)}
	}
	if len(v.keys) > 0 && !slices.ContainsFunc(v.keys, s.Verify) {
		return &BreakError{Seq: seq, At: seq, Reason: "the seal's signature does not verify with the gateway's key"}
	}
	v.count, v.countKnown = s.Count, true
	v.LastSeal = &SealInfo{Seq: seq, Time: s.Time, Count: s.Count}
	v.Unsealed = 0
	return nil
}

// advance makes the event at seq the head.
func (v *Verifier) advance(seq uint64, data []byte, ev *events.Event) {
	v.started = true
	v.strayed = false
	v.head = sha256.Sum256(data)
	v.headSeq = seq
	if ev.Prev != "" {
		v.chained = true
		v.term, v.idx = ev.Term, ev.Idx
	} else if ev.Term > 0 {
		v.term, v.idx = ev.Term, ev.Idx
	}
	v.count++
	v.Counted++
	if ev.Kind != events.SealKind {
		v.Unsealed++
	}
}

// Resume anchors a verifier that starts after data, the stored payload of
// the last counted event a previous walk verified (an audit file's last
// line): the next event fed must name its hash. The count since the stream
// began is learnt from the next seal.
func (v *Verifier) Resume(data []byte) error {
	var ev events.Event
	if err := decodeEvent(data, &ev, nil); err != nil {
		return fmt.Errorf("journal: resume: %w", err)
	}
	v.advance(0, data, &ev)
	v.count, v.countKnown, v.Counted, v.Unsealed, v.Unchained = 0, false, 0, 0, 0
	if ev.Prev == "" {
		v.legacy = readRule{term: ev.Term, idx: ev.Idx, known: ev.Term > 0}
	}
	return nil
}
