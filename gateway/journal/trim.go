package journal

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Retention says which old events the gateway deletes (Trim). Zero keeps
// everything.
type Retention struct {
	MaxAge   time.Duration // delete events older than this
	MaxBytes int64         // delete the oldest events while the stream is larger
	MaxMsgs  int64         // delete the oldest events while the stream holds more
}

// Enabled reports whether r deletes anything.
func (r Retention) Enabled() bool { return r.MaxAge > 0 || r.MaxBytes > 0 || r.MaxMsgs > 0 }

// Bounds are the stream's first and last sequence (first > last when it is
// empty).
func (j *Journal) Bounds(ctx context.Context) (first, last uint64, err error) {
	info, err := j.link.Load().stream.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("journal: stream info: %w", err)
	}
	return info.State.FirstSeq, info.State.LastSeq, nil
}

// Trim deletes the events r says are too old or too many, but never one
// after sequence keepAfter: the caller passes the sequence its oldest kept
// snapshot includes, so a restart always finds every event it needs. The
// stream itself has no age or size limit (JetStream would delete events no
// snapshot covers); the gateway trims it. It returns how many messages
// were deleted.
func (j *Journal) Trim(ctx context.Context, r Retention, keepAfter uint64) (uint64, error) {
	if !r.Enabled() || keepAfter == 0 {
		return 0, nil
	}
	st := j.link.Load().stream
	info, err := st.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("journal: trim: %w", err)
	}
	s := info.State
	if s.Msgs == 0 {
		return 0, nil
	}
	below := s.FirstSeq // delete every sequence below this
	if r.MaxBytes > 0 && s.Bytes > uint64(r.MaxBytes) {
		keep := uint64(r.MaxBytes) / max(s.Bytes/s.Msgs, 1)
		if s.LastSeq+1-keep > below {
			below = s.LastSeq + 1 - keep
		}
	}
	if r.MaxMsgs > 0 && s.Msgs > uint64(r.MaxMsgs) {
		below = max(below, s.LastSeq+1-uint64(r.MaxMsgs))
	}
	if r.MaxAge > 0 {
		cutoff := time.Now().Add(-r.MaxAge)
		hi := min(s.LastSeq, keepAfter)
		// The first sequence at or after cutoff; every one before it is
		// older (sequences are stored in time order).
		var searchErr error
		n := sort.Search(int(hi-s.FirstSeq+1), func(i int) bool {
			m, err := st.GetMsg(ctx, s.FirstSeq+uint64(i))
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				return false // deleted: count it as old
			}
			if err != nil {
				searchErr = err
				return true
			}
			return !m.Time.Before(cutoff)
		})
		if searchErr != nil {
			return 0, fmt.Errorf("journal: trim: %w", searchErr)
		}
		below = max(below, s.FirstSeq+uint64(n))
	}
	below = min(below, keepAfter+1)
	if below <= s.FirstSeq {
		return 0, nil
	}
	if err := st.Purge(ctx, jetstream.WithPurgeSequence(below)); err != nil {
		return 0, fmt.Errorf("journal: trim below %d: %w", below, err)
	}
	return below - s.FirstSeq, nil
}

// StreamState is the stream's current state (messages, bytes, sequences).
func (j *Journal) StreamState(ctx context.Context) (jetstream.StreamState, error) {
	info, err := j.link.Load().stream.Info(ctx)
	if err != nil {
		return jetstream.StreamState{}, fmt.Errorf("journal: stream info: %w", err)
	}
	return info.State, nil
}
