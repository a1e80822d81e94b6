package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/seats"
)

// snapshotFile is the snapshot's name in the data directory.
const snapshotFile = "snapshot.json"

// snapshot is the engine's state as of one journaled event.
//
// Seq is a stream sequence at or before that event: every event up to Seq is
// in State. Events after Seq may be in State too (the stream's sequence of
// the newest events is not known when the state is taken); LastID tells
// them apart, since event ids sort in journal order.
type snapshot struct {
	Seq    uint64      `json:"seq"`
	LastID string      `json:"last_id"`
	Taken  time.Time   `json:"taken"`
	State  seats.State `json:"state"`
}

// Snapshot writes the engine's state to the data directory, once every
// event it includes is acknowledged by the journal.
func (l *Ledger) Snapshot(ctx context.Context) error {
	if l.opts.DataDir == "" {
		return nil
	}
	l.mu.Lock()
	seq := l.opts.Journal.LastSeq()
	state := l.eng.State()
	last := l.lastCommit
	l.mu.Unlock()

	snap := snapshot{Seq: seq, Taken: l.now().UTC(), State: state}
	if last != nil {
		if err := last.Wait(ctx); err != nil {
			return fmt.Errorf("snapshot: events not acknowledged: %w", err)
		}
		evs := last.Events()
		snap.LastID = evs[len(evs)-1].ID
	}
	b, err := json.Marshal(&snap)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	path := filepath.Join(l.opts.DataDir, snapshotFile)
	tmp := path + ".tmp"
	if err := os.MkdirAll(l.opts.DataDir, 0o700); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := writeSync(tmp, b); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	l.log.Debug("snapshot written", "seq", seq, "bytes", len(b))
	return nil
}

func writeSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// snapshotter writes a snapshot whenever enough events have passed.
func (l *Ledger) snapshotter() {
	defer l.wg.Done()
	for {
		select {
		case <-l.done:
			return
		case <-l.snapKick:
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			if err := l.Snapshot(ctx); err != nil {
				l.log.Warn("snapshot failed", "error", err)
			}
			cancel()
		}
	}
}

// recover rebuilds the engine: the snapshot, then every later event, then a
// fresh TTL for every lease and the end of every ticket (their waiters were
// connections of the previous process).
func (l *Ledger) recover(ctx context.Context) error {
	start := time.Now()
	var snap snapshot
	if l.opts.DataDir != "" {
		b, err := os.ReadFile(filepath.Join(l.opts.DataDir, snapshotFile))
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fmt.Errorf("ledger: read snapshot: %w", err)
		default:
			if err := json.Unmarshal(b, &snap); err != nil {
				return fmt.Errorf("ledger: snapshot %s: %w", snapshotFile, err)
			}
			if err := l.eng.Restore(snap.State); err != nil {
				return fmt.Errorf("ledger: restore snapshot: %w", err)
			}
		}
	}
	replayed := 0
	_, err := l.opts.Journal.Replay(ctx, snap.Seq, func(_ uint64, ev events.Event) error {
		if snap.LastID != "" && ev.ID <= snap.LastID {
			return nil
		}
		replayed++
		return l.eng.Apply(ev)
	})
	if err != nil {
		return fmt.Errorf("ledger: replay journal: %w", err)
	}

	l.mu.Lock()
	evs := l.eng.Revive(l.now(), l.scratch[:0])
	appended := time.Now()
	c, _ := l.commitLocked(evs)
	leases, _ := l.eng.Counts()
	l.mu.Unlock()
	if c != nil {
		err := c.Wait(ctx)
		if l.opts.Observer != nil {
			l.opts.Observer.Acknowledged(len(c.Events()), time.Since(appended), err)
		}
		if err != nil {
			return fmt.Errorf("ledger: journal dequeued tickets: %w", err)
		}
	}
	l.log.Info("accounting rebuilt", "snapshot_seq", snap.Seq, "replayed", replayed,
		"leases", leases, "took", time.Since(start).Round(time.Millisecond))
	return nil
}
