package journal

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/events"
)

// Stream names the journal stream a verification or repair works on, and
// the connection it reads it with.
type Stream struct {
	Conn   *nats.Conn
	Name   string // default events.DefaultStream
	Prefix string // default events.DefaultPrefix
}

func (s Stream) open(ctx context.Context) (jetstream.Stream, jetstream.StreamState, error) {
	if s.Name == "" {
		s.Name = events.DefaultStream
	}
	js, err := jetstream.New(s.Conn)
	if err != nil {
		return nil, jetstream.StreamState{}, fmt.Errorf("journal: %w", err)
	}
	st, err := js.Stream(ctx, s.Name)
	if err != nil {
		return nil, jetstream.StreamState{}, fmt.Errorf("journal: stream %s: %w", s.Name, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, jetstream.StreamState{}, fmt.Errorf("journal: stream %s: %w", s.Name, err)
	}
	return st, info.State, nil
}

func (s Stream) prefix() string {
	if s.Prefix == "" {
		return events.DefaultPrefix
	}
	return s.Prefix
}

// Verify walks the stream from sequence from (0: its first) to its last
// message when Verify began, and checks it as Replay does, seals'
// signatures with key or any of more (nil and none: not checked). It
// returns the verifier, with what it found, and a *BreakError at the first
// break.
func Verify(ctx context.Context, s Stream, from uint64, key ed25519.PublicKey, more ...ed25519.PublicKey) (*Verifier, error) {
	st, state, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	v := NewVerifier(key, more...)
	if state.Msgs == 0 || from > state.LastSeq {
		return v, nil
	}
	from = max(from, state.FirstSeq)
	_, err = walk(ctx, s.Conn, st, s.prefix(), from, state.LastSeq, func(seq uint64, data []byte) error {
		var ev events.Event
		if err := decodeEvent(data, &ev, nil); err != nil {
			return &BreakError{Seq: seq, At: seq, Reason: fmt.Sprintf("undecodable event: %v", err)}
		}
		_, err := v.Feed(seq, data, &ev)
		return err
	})
	if err != nil {
		var brk *BreakError
		if !errors.As(err, &brk) {
			err = fmt.Errorf("journal: verify: %w", err)
		}
		return v, err
	}
	return v, nil
}

// Dropped is one message a repair deleted: its stream sequence and payload.
type Dropped struct {
	Seq  uint64
	Data []byte
}

// Repair verifies the whole stream and, if the chain breaks, deletes every
// message from the break's sequence to the stream's end, so that the
// stream ends with its last valid event and the next writer continues the
// chain from it. With dryRun it deletes nothing. It returns the break (nil
// if the chain holds: nothing is deleted) and the messages it deleted, or
// would delete, in order. It needs a connection allowed to delete
// messages, and no gateway writing to the stream.
func Repair(ctx context.Context, s Stream, dryRun bool, key ed25519.PublicKey, more ...ed25519.PublicKey) (*BreakError, []Dropped, error) {
	_, err := Verify(ctx, s, 0, key, more...)
	var brk *BreakError
	if err == nil || !errors.As(err, &brk) {
		return nil, nil, err
	}
	st, state, err := s.open(ctx)
	if err != nil {
		return brk, nil, err
	}
	var dropped []Dropped
	for seq := brk.Seq; seq <= state.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return brk, dropped, fmt.Errorf("journal: repair: read %d: %w", seq, err)
		}
		dropped = append(dropped, Dropped{Seq: seq, Data: m.Data})
	}
	if dryRun {
		return brk, dropped, nil
	}
	for i, d := range dropped {
		if err := st.DeleteMsg(ctx, d.Seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return brk, dropped[:i], fmt.Errorf("journal: repair: delete %d: %w", d.Seq, err)
		}
	}
	return brk, dropped, nil
}
