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
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/seats"
)

// The snapshot's name in the data directory, and the one before it: kept
// so that a snapshot found corrupt at start still has a predecessor, and
// retention never deletes the events that predecessor needs.
const (
	snapshotFile     = "snapshot.json"
	prevSnapshotFile = "snapshot.prev.json"
)

// Retention is journal.Retention: which old events the ledger deletes
// after each snapshot. Only events both snapshots include are deleted.
type Retention = journal.Retention

// retentionCheck is how often a ledger with retention snapshots and trims.
const retentionCheck = time.Minute

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

// SnapshotStore keeps snapshots where every node of a cluster reads them
// (gateway/cluster.SnapshotStore, a JetStream object store), so that the
// node that takes over starts from the leader's latest snapshot and
// replays only the events after it.
type SnapshotStore interface {
	// Save stores an encoded snapshot; the store keeps it and at least
	// the one before it.
	Save(ctx context.Context, data []byte) error
	// Load returns the stored snapshots (any order; none: nil).
	Load(ctx context.Context) ([][]byte, error)
}

// Snapshot writes the engine's state to the data directory (and to
// Options.Snapshots), once every event it includes is acknowledged by the
// journal; the snapshot it replaces becomes snapshot.prev.json. With
// retention, it then trims the stream up to what the older of the two
// includes.
func (l *Ledger) Snapshot(ctx context.Context) error {
	if l.opts.DataDir == "" && l.opts.Snapshots == nil {
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
	var stored error
	if l.opts.Snapshots != nil {
		if stored = l.opts.Snapshots.Save(ctx, b); stored != nil {
			stored = fmt.Errorf("snapshot: store: %w", stored)
		} else {
			l.log.Debug("snapshot stored", "seq", seq, "bytes", len(b))
		}
	}
	if l.opts.DataDir == "" {
		return stored
	}
	path := filepath.Join(l.opts.DataDir, snapshotFile)
	tmp := path + ".tmp"
	if err := os.MkdirAll(l.opts.DataDir, 0o700); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := writeSync(tmp, b); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	l.snapMu.Lock()
	defer l.snapMu.Unlock()
	if err := os.Rename(path, filepath.Join(l.opts.DataDir, prevSnapshotFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	keep := l.snapSeq // what the snapshot now in snapshot.prev.json includes
	l.snapSeq = seq
	if l.opts.Snapshots != nil {
		// In a cluster the node that takes over starts from the
		// store's snapshots, not from this node's files: keep every
		// event the store's older snapshot (the newest before this
		// one) lacks, and trim nothing unless this one was stored.
		if stored != nil {
			keep = 0
		} else {
			keep = min(keep, l.storedSeq)
			l.storedSeq = seq
		}
	}
	l.log.Debug("snapshot written", "seq", seq, "bytes", len(b))
	if n, err := l.opts.Journal.Trim(ctx, l.opts.Retention, keep); err != nil {
		l.log.Warn("trimming the event stream failed", "error", err)
	} else if n > 0 {
		l.log.Info("old events deleted by retention", "messages", n, "kept_after", keep)
	}
	return stored
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

// snapshotter writes a snapshot whenever enough events have passed, and
// with retention at least every retentionCheck (each snapshot trims).
func (l *Ledger) snapshotter() {
	defer l.wg.Done()
	var periodic <-chan time.Time
	// With retention, and with a snapshot store (the node that takes
	// over replays only what came after the latest snapshot), also by
	// time.
	if l.opts.Retention.Enabled() || l.opts.Snapshots != nil {
		t := time.NewTicker(retentionCheck)
		defer t.Stop()
		periodic = t.C
	}
	for {
		select {
		case <-l.done:
			return
		case <-l.snapKick:
		case <-periodic:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := l.Snapshot(ctx); err != nil {
			l.log.Warn("snapshot failed", "error", err)
		}
		cancel()
	}
}

// loadSnapshot reads the snapshot at name into a fresh engine. A file that
// is missing is not an error (ok false); one that cannot be read, decoded
// or restored is.
func (l *Ledger) loadSnapshot(name string) (snap snapshot, eng *seats.Engine, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(l.opts.DataDir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return snap, nil, false, nil
	}
	if err != nil {
		return snap, nil, false, err
	}
	return l.decodeSnapshot(b)
}

// decodeSnapshot decodes an encoded snapshot into a fresh engine.
func (l *Ledger) decodeSnapshot(b []byte) (snap snapshot, eng *seats.Engine, ok bool, err error) {
	if err := json.Unmarshal(b, &snap); err != nil {
		return snap, nil, false, err
	}
	if eng, err = seats.New(l.opts.Config, seats.Options{NewID: l.opts.NewID}); err != nil {
		return snap, nil, false, err
	}
	if err := eng.Restore(snap.State); err != nil {
		return snap, nil, false, fmt.Errorf("restore: %w", err)
	}
	return snap, eng, true, nil
}

// latestSnapshot loads the newest of the store's snapshots
// (Options.Snapshots) and the data directory's (latestLocalSnapshot).
//
// latestLocalSnapshot loads snapshot.json, or else snapshot.prev.json. A file
// that does not load is renamed aside (name.corrupt-<time>) and logged; the
// state is then rebuilt from the older snapshot or from the stream alone.
func (l *Ledger) latestSnapshot(ctx context.Context) (snapshot, error) {
	local, err := l.latestLocalSnapshot()
	if err != nil || l.opts.Snapshots == nil {
		return local, err
	}
	// The store's newest snapshot, if newer than this node's own: the
	// previous leader's.
	blobs, err := l.loadStored(ctx, local)
	if err != nil {
		return local, err
	}
	if blobs == nil {
		return local, nil
	}
	best, bestEng := local, (*seats.Engine)(nil)
	for _, b := range blobs {
		snap, eng, ok, err := l.decodeSnapshot(b)
		if err != nil || !ok {
			l.log.Error("stored snapshot unusable; skipped", "error", err)
			continue
		}
		l.storedSeq = max(l.storedSeq, snap.Seq)
		if newerSnapshot(snap, best) {
			best, bestEng = snap, eng
		}
	}
	if bestEng != nil {
		l.eng = bestEng
		l.log.Info("starting from the snapshot store's snapshot", "seq", best.Seq, "taken", best.Taken, "local_seq", local.Seq)
	}
	return best, nil
}

// storeWait bounds how long a start waits for an unreadable snapshot store
// when the stream no longer holds every event after this node's own
// snapshot (retention trimmed them).
const storeWait = 30 * time.Second

// loadStored loads the store's snapshots. An unreadable store is not fatal
// while the stream still holds every event after local: the local
// snapshot and a longer replay do (it returns nil, nil). When retention
// has trimmed some of them, it retries for up to storeWait: starting
// without them would lose the leases they granted.
func (l *Ledger) loadStored(ctx context.Context, local snapshot) ([][]byte, error) {
	var trimmedSince time.Time // when the stream was first seen trimmed
	for {
		lctx, cancel := context.WithTimeout(ctx, boundsWait)
		blobs, err := l.opts.Snapshots.Load(lctx)
		cancel()
		if err == nil {
			return blobs, nil
		}
		bctx, cancel := context.WithTimeout(ctx, boundsWait)
		first, _, berr := l.opts.Journal.Bounds(bctx)
		cancel()
		switch {
		case berr == nil && first <= local.Seq+1:
			l.log.Warn("snapshot store unreadable; starting from this node's own snapshot", "error", err)
			return nil, nil
		case berr != nil:
			// Neither the store nor the stream answers (a cluster
			// electing its raft leaders): nothing says events were
			// trimmed; wait for one of them, until ctx ends.
			l.log.Warn("snapshot store and event stream unreadable; retrying", "error", err, "stream_error", berr)
		default:
			if trimmedSince.IsZero() {
				trimmedSince = time.Now()
			}
			l.log.Warn("snapshot store unreadable, and retention deleted events after this node's own snapshot; retrying",
				"error", err, "snapshot_seq", local.Seq, "stream_first_seq", first)
			if time.Since(trimmedSince) > storeWait {
				return nil, fmt.Errorf("ledger: the snapshot store is unreadable and the stream no longer holds every event after this node's own snapshot (seq %d): %w", local.Seq, err)
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("ledger: snapshot store: %w (last error: %w)", ctx.Err(), err)
		case <-time.After(time.Second):
		}
	}
}

// boundsWait bounds one look at the snapshot store or the stream's
// bounds.
const boundsWait = 5 * time.Second

// recoverBoundsWait bounds recover's look at the stream's bounds, which
// only tells whether retention trimmed events a snapshot lacks.
const recoverBoundsWait = time.Second

// newerSnapshot reports whether a includes more of the journal than b.
func newerSnapshot(a, b snapshot) bool {
	if a.Seq != b.Seq {
		return a.Seq > b.Seq
	}
	return a.LastID > b.LastID
}

// latestLocalSnapshot is latestSnapshot from the data directory alone.
func (l *Ledger) latestLocalSnapshot() (snapshot, error) {
	if l.opts.DataDir == "" {
		return snapshot{}, nil
	}
	for _, name := range []string{snapshotFile, prevSnapshotFile} {
		snap, eng, ok, err := l.loadSnapshot(name)
		if err == nil && ok {
			l.eng = eng
			return snap, nil
		}
		if err == nil {
			continue
		}
		path := filepath.Join(l.opts.DataDir, name)
		aside := path + ".corrupt-" + l.now().UTC().Format("20060102T150405Z")
		if rerr := os.Rename(path, aside); rerr != nil {
			return snapshot{}, fmt.Errorf("ledger: snapshot %s unusable (%w) and not set aside: %w", name, err, rerr)
		}
		l.log.Error("snapshot unusable; set aside, rebuilding from an older snapshot or the stream",
			"file", path, "moved_to", aside, "error", err)
	}
	return snapshot{}, nil
}

// recover rebuilds the engine: the snapshot, then every later event, then a
// fresh TTL for every lease and the end of every ticket (their waiters were
// connections of the previous process).
func (l *Ledger) recover(ctx context.Context) error {
	start := time.Now()
	snap, err := l.latestSnapshot(ctx)
	if err != nil {
		return err
	}
	l.snapSeq = snap.Seq
	loaded := time.Now()
	// Only to say so when events are gone: a look that gets no answer
	// (a request lost while the stream elects its raft leader waits out
	// the JetStream API's 5 s default) must not hold up a takeover.
	bctx, cancel := context.WithTimeout(ctx, recoverBoundsWait)
	first, _, err := l.opts.Journal.Bounds(bctx)
	cancel()
	if err == nil && first > snap.Seq+1 {
		// Retention never trims past a snapshot, so this is a lost or
		// older snapshot with a trimmed stream: leases granted in the
		// missing events are not known.
		l.log.Error("events between the snapshot and the stream's first are gone; leases they granted are lost",
			"snapshot_seq", snap.Seq, "stream_first_seq", first)
	}
	replayed, replaying := 0, time.Now()
	_, err = l.opts.Journal.Replay(ctx, snap.Seq, func(_ uint64, ev events.Event) error {
		if snap.LastID != "" && ev.ID <= snap.LastID {
			return nil
		}
		replayed++
		return l.eng.Apply(ev)
	})
	if err != nil {
		return fmt.Errorf("ledger: replay journal: %w", err)
	}
	replayTook := time.Since(replaying)

	l.mu.Lock()
	evs := l.eng.ReviveKeeping(l.now(), l.opts.KeepBound, l.scratch[:0])
	appended := time.Now()
	c, _ := l.commitLocked(evs, nil)
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
		"leases", leases, "took", time.Since(start).Round(time.Millisecond),
		"snapshot_load", loaded.Sub(start).Round(time.Millisecond), "bounds", replaying.Sub(loaded).Round(time.Millisecond),
		"replay", replayTook.Round(time.Millisecond))
	return nil
}

// SetAsideSnapshots renames aside (name.repaired-<time>) the snapshots in
// dataDir that include an event at or after stream sequence seq, or the
// event with id firstID or a later one (ids sort in journal order; "" to
// go by sequence alone): a journal repair deleted those events, so the
// state must be rebuilt without them. It returns the files it moved.
func SetAsideSnapshots(dataDir string, seq uint64, firstID string, now time.Time) ([]string, error) {
	var moved []string
	for _, name := range []string{snapshotFile, prevSnapshotFile} {
		path := filepath.Join(dataDir, name)
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return moved, fmt.Errorf("ledger: %w", err)
		}
		var snap snapshot
		if json.Unmarshal(b, &snap) == nil && snap.Seq < seq && (firstID == "" || snap.LastID < firstID) {
			continue // before the dropped events (an unreadable one goes too)
		}
		aside := path + ".repaired-" + now.UTC().Format("20060102T150405Z")
		if err := os.Rename(path, aside); err != nil {
			return moved, fmt.Errorf("ledger: %w", err)
		}
		moved = append(moved, aside)
	}
	return moved, nil
}
