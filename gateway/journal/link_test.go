package journal

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// The streams as the server reports them after they were created count as
// already made: the next opening looks them up instead of updating them
// through the JetStream meta leader; a changed limit is updated.
func TestEnsureStreamSkipsAnUnchangedStream(t *testing.T) {
	ns := natstest.Start(t)
	js := natstest.JetStream(t, ns)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := Config{Prefix: "licensegw", Stream: "LICENSEGW_EVENTS", Replicas: 1, LifecycleLimits: Retention{MaxMsgs: 10}}
	for _, want := range []jetstream.StreamConfig{streamConfig(cfg), lifecycleConfig(cfg)} {
		if _, err := ensureStream(ctx, js, want); err != nil {
			t.Fatal(err)
		}
		st, err := js.Stream(ctx, want.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !sameStream(st.CachedInfo().Config, want) {
			t.Errorf("%s: the server's configuration %+v does not count as the one made from %+v", want.Name, st.CachedInfo().Config, want)
		}
	}
	cfg.LifecycleLimits.MaxMsgs = 20
	want := lifecycleConfig(cfg)
	st, err := js.Stream(ctx, want.Name)
	if err != nil {
		t.Fatal(err)
	}
	if sameStream(st.CachedInfo().Config, want) {
		t.Fatal("a changed max_msgs counts as the same stream")
	}
	if _, err := ensureStream(ctx, js, want); err != nil {
		t.Fatal(err)
	}
	if st, err = js.Stream(ctx, want.Name); err != nil || st.CachedInfo().Config.MaxMsgs != 20 {
		t.Fatalf("lifecycle max_msgs after the update: %v, %v", st.CachedInfo().Config.MaxMsgs, err)
	}
}
