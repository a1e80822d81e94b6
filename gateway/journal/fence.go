package journal

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/events"
)

// readTail sets the fence of the writer's first event (the stream's last
// sequence) and the highest term known so far (the last message's), so a
// new term is higher even before a replay has read the whole stream.
func (j *Journal) readTail(ctx context.Context) error {
	st := j.link.Load().stream
	info, err := st.Info(ctx)
	if err != nil {
		return fmt.Errorf("journal: stream info: %w", err)
	}
	j.nextExpect = info.State.LastSeq
	if info.State.Msgs == 0 {
		return nil
	}
	m, err := st.GetMsg(ctx, info.State.LastSeq)
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound): // deleted (a repair)
	case err != nil:
		return fmt.Errorf("journal: last message: %w", err)
	default:
		var ev events.Event
		if decodeEvent(m.Data, &ev, nil) == nil {
			j.sawTerm(ev.Term)
		}
	}
	if j.cfg.Unchained {
		return nil
	}
	return j.readChainTail(ctx, info.State)
}

// sealSubject is where seals are appended.
func sealSubject(prefix string) string { return prefix + ".events._journal.seal" }

// readChainTail finds where this writer's chain continues: the hash of the
// stream's last counted event and the count since the stream began. It
// verifies the stream from its last seal (or, with none, from its first
// event) to its end, so a start also checks what no seal covers yet.
func (j *Journal) readChainTail(ctx context.Context, state jetstream.StreamState) error {
	l := j.link.Load()
	from := state.FirstSeq
	m, err := l.stream.GetLastMsgForSubject(ctx, sealSubject(j.cfg.Prefix))
	switch {
	case err == nil:
		from = max(from, m.Sequence)
	case !errors.Is(err, jetstream.ErrMsgNotFound):
		return fmt.Errorf("journal: last seal: %w", err)
	}
	v := NewVerifier(j.publicKey(), j.cfg.Trusted...)
	_, err = walk(ctx, l.nc, l.stream, j.cfg.Prefix, from, state.LastSeq, func(seq uint64, data []byte) error {
		var ev events.Event
		if err := decodeEvent(data, &ev, nil); err != nil {
			return &BreakError{Seq: seq, At: seq, Reason: fmt.Sprintf("undecodable event: %v", err)}
		}
		j.sawTerm(ev.Term)
		_, err := v.Feed(seq, data, &ev)
		return err
	})
	if err != nil {
		return fmt.Errorf("journal: verify the stream's tail from %d: %w", from, err)
	}
	j.head, j.count = v.head, v.count
	return nil
}

// sawTerm raises the highest term seen to t.
func (j *Journal) sawTerm(t uint64) {
	for {
		cur := j.maxTerm.Load()
		if t <= cur || j.maxTerm.CompareAndSwap(cur, t) {
			return
		}
	}
}

// depose records that another writer appended (or, with ErrRevoked,
// that this one may not append any more): Ready and every later Append
// report err, and Deposed is closed.
func (j *Journal) depose(err error) {
	if !j.deposed.CompareAndSwap(nil, &err) {
		return
	}
	close(j.deposedCh)
	if errors.Is(err, ErrRevoked) {
		j.cfg.Log.Warn("journal: this writer may no longer append (its leader lease is gone); unsent events are dropped and their requests answered unavailable", "error", err)
		return
	}
	j.cfg.Log.Error("journal fence refused an append: another writer appended; this gateway stops writing", "error", err)
}

// Deposed is closed once the journal stopped writing for good because
// another writer appended (the fence refused an append) or its right to
// write was revoked (Config.MayWrite); Ready then says why.
func (j *Journal) Deposed() <-chan struct{} { return j.deposedCh }

// mayWrite asks Config.MayWrite.
func (j *Journal) mayWrite() bool { return j.cfg.MayWrite == nil || j.cfg.MayWrite() }

// readRule is the events v2 read rule: walking the stream in order, an
// event counts only if it opens a term higher than the current one (idx 0)
// or is the next idx of the current term. Anything else is a deposed
// writer's stray append. Events written before version 2 (no term) count
// until the first term opens. A replay that starts after a snapshot does
// not know the position: its first event fixes it.
type readRule struct {
	term, idx uint64
	known     bool
}

func (r *readRule) counts(ev *events.Event) bool {
	switch {
	case ev.Term == 0:
		return r.term == 0
	case !r.known, ev.Idx == 0 && ev.Term > r.term, ev.Term == r.term && ev.Idx == r.idx+1:
		r.term, r.idx, r.known = ev.Term, ev.Idx, true
		return true
	}
	return false
}
