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
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("journal: last message: %w", err)
	}
	var ev events.Event
	if decodeEvent(m.Data, &ev, nil) == nil {
		j.sawTerm(ev.Term)
	}
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

// depose records that another writer appended: Ready and every later
// Append report err.
func (j *Journal) depose(err error) {
	j.deposed.CompareAndSwap(nil, &err)
	j.cfg.Log.Error("journal fence refused an append: another writer appended; this gateway stops writing", "error", err)
}

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
