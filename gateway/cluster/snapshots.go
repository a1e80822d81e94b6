package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultSnapshotBucket is the object store that holds a cluster's
// snapshots (its stream is OBJ_ + the bucket's name).
const DefaultSnapshotBucket = "LICENSEGW_SNAPSHOTS"

// snapshotSlots are the objects snapshots are written to in turn, so that
// the store always holds the latest snapshot and one before it: a
// snapshot that turns out unusable still has a predecessor.
var snapshotSlots = [2]string{"snapshot-a.json", "snapshot-b.json"}

// SnapshotStore keeps the leader's snapshots in a replicated JetStream
// object store, where the node that takes over (or joins, or starts cold)
// finds them: it starts from the latest and replays only the events after
// it, instead of the whole stream or its own, older snapshot. It
// implements ledger.SnapshotStore.
type SnapshotStore struct {
	obs jetstream.ObjectStore

	mu   sync.Mutex
	next int // the slot the next Save writes
}

// OpenSnapshotStore creates (or opens) the object store bucket with
// replicas, retrying while JetStream has no quorum, until ctx ends.
func OpenSnapshotStore(ctx context.Context, js jetstream.JetStream, bucket string, replicas int, log hclog.Logger) (*SnapshotStore, error) {
	if bucket == "" {
		bucket = DefaultSnapshotBucket
	}
	if replicas <= 0 {
		replicas = 1
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	var obs jetstream.ObjectStore
	err := Retry(ctx, log, "snapshot store", func(ctx context.Context) (err error) {
		obs, err = js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket: bucket, Description: "licensegw: the leader's snapshots of the seat accounting",
			Replicas: replicas, Storage: jetstream.FileStorage,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	s := &SnapshotStore{obs: obs}
	s.next = s.oldestSlot(ctx)
	return s, nil
}

// SnapshotStream is the stream behind the object store bucket.
func SnapshotStream(bucket string) string {
	if bucket == "" {
		bucket = DefaultSnapshotBucket
	}
	return "OBJ_" + bucket
}

// oldestSlot is the slot written longest ago (or never), where the next
// snapshot goes.
func (s *SnapshotStore) oldestSlot(ctx context.Context) int {
	var infos [2]*jetstream.ObjectInfo
	for i, name := range snapshotSlots {
		if info, err := s.obs.GetInfo(ctx, name); err == nil {
			infos[i] = info
		}
	}
	switch {
	case infos[0] == nil:
		return 0
	case infos[1] == nil:
		return 1
	case infos[1].ModTime.Before(infos[0].ModTime):
		return 1
	}
	return 0
}

// Save writes data to the slot after the last one written.
func (s *SnapshotStore) Save(ctx context.Context, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.obs.PutBytes(ctx, snapshotSlots[s.next], data); err != nil {
		return fmt.Errorf("cluster: snapshot store: %w", err)
	}
	s.next = 1 - s.next
	return nil
}

// Load returns the stored snapshots (none: nil).
func (s *SnapshotStore) Load(ctx context.Context) ([][]byte, error) {
	var out [][]byte
	for _, name := range snapshotSlots {
		b, err := s.obs.GetBytes(ctx, name)
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("cluster: snapshot store: %s: %w", name, err)
		}
		out = append(out, b)
	}
	return out, nil
}
