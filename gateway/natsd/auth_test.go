package natsd_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

const (
	eventsStream = "LICENSEGW_EVENTS"
	forged       = "licensegw.events.local.cad.checkout"
)

// withStream starts a test server holding the events and lifecycle streams
// with one event each, written by the gateway's in-process connection.
func withStream(t *testing.T) *natsd.Server {
	t.Helper()
	s := natstest.Start(t)
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, sc := range []jetstream.StreamConfig{
		{Name: eventsStream, Subjects: []string{"licensegw.events.>"}},
		{Name: "LICENSEGW_LIFECYCLE", Subjects: []string{"licensegw.gateway.>", "licensegw.plugins.>"}},
	} {
		if _, err := js.CreateStream(ctx, sc); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := js.Publish(ctx, "licensegw.events.local.cad.checkin", []byte(`{"kind":"checkin"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "licensegw.gateway.started", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	return s
}

func msgs(t *testing.T, s *natsd.Server, stream string) uint64 {
	t.Helper()
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	return st.CachedInfo().State.Msgs
}

func TestNetworkClientsNeedCredentials(t *testing.T) {
	s := withStream(t)
	otherKey, _ := nkeys.CreateUser()
	otherPub, _ := otherKey.PublicKey()
	tests := []struct {
		name string
		opts []nats.Option
	}{
		{"no credentials", nil},
		{"unknown nkey", []nats.Option{nats.Nkey(otherPub, otherKey.Sign)}},
		{"user and password", []nats.Option{nats.UserInfo("audit", "audit")}},
		{"token", []nats.Option{nats.Token("secret")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc, err := nats.Connect(s.ClientURL(), append(tt.opts, nats.Timeout(20*time.Second))...)
			if err == nil {
				nc.Close()
				t.Fatal("connected")
			}
			if !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
				t.Fatalf("err = %v, want an authorization violation", err)
			}
		})
	}
	if n := msgs(t, s, eventsStream); n != 1 {
		t.Errorf("stream holds %d messages, want 1", n)
	}
}

// permissionErrors collects the server's asynchronous permission errors.
func permissionErrors() (nats.Option, <-chan error) {
	ch := make(chan error, 16)
	return nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case ch <- err:
		default:
		}
	}), ch
}

func TestReadOnlyCannotWrite(t *testing.T) {
	s := withStream(t)
	errOpt, asyncErrs := permissionErrors()
	nc, err := nats.Connect(s.ClientURL(), natstest.ReadOnly(), errOpt, nats.Timeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	// A forged event published as a plain message: the server refuses it
	// and says so.
	if err := nc.Publish(forged, []byte(`{"kind":"checkout","user":"mallory"}`)); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-asyncErrs:
		if !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(err.Error(), forged) {
			t.Fatalf("async error = %v, want a permissions violation for %s", err, forged)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no permissions violation reported")
	}

	// Each JetStream request a writer would make is refused before it
	// reaches JetStream: the server reports a permissions violation naming
	// its subject (nats.go's request would only time out).
	for _, subject := range []string{
		forged, // js.Publish
		"$JS.API.STREAM.PURGE." + eventsStream,
		"$JS.API.STREAM.DELETE." + eventsStream,
		"$JS.API.STREAM.MSG.DELETE." + eventsStream,
		"$JS.API.STREAM.UPDATE." + eventsStream,
		"$JS.API.STREAM.CREATE.SHADOW",
		"$JS.API.STREAM.PURGE.LICENSEGW_LIFECYCLE",
		"$JS.API.STREAM.DELETE.LICENSEGW_LIFECYCLE",
		"licensegw.gateway.started",
		"$KV.leader.lease",
	} {
		refused(t, nc, asyncErrs, subject)
	}
	// The stream is as it was: the refused requests were not delayed.
	if n := msgs(t, s, eventsStream); n != 1 {
		t.Errorf("events stream holds %d messages, want 1", n)
	}
	if n := msgs(t, s, "LICENSEGW_LIFECYCLE"); n != 1 {
		t.Errorf("lifecycle stream holds %d messages, want 1", n)
	}

	// The same forgery with full access is stored: the refusals above
	// are the permissions', not a broken publish.
	full := natstest.Dial(t, s)
	fjs, _ := jetstream.New(full)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := fjs.Publish(ctx, forged, []byte(`{"kind":"checkout","user":"mallory"}`)); err != nil {
		t.Fatalf("full access publish: %v", err)
	}
	if n := msgs(t, s, eventsStream); n != 2 {
		t.Errorf("events stream holds %d messages after a full-access publish, want 2", n)
	}
}

// refused sends a request to subject and waits for the server's
// permissions violation about it.
func refused(t *testing.T, nc *nats.Conn, asyncErrs <-chan error, subject string) {
	t.Helper()
	if err := nc.PublishRequest(subject, nc.NewRespInbox(), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case err := <-asyncErrs:
			if errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), `"`+subject+`"`) {
				return
			}
		case <-deadline:
			t.Fatalf("%s: no permissions violation", subject)
		}
	}
}

func jetstreamOf(t *testing.T, s *natsd.Server) jetstream.JetStream {
	t.Helper()
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	return js
}

// TestReadOnlyTails: the audit identity reads the streams and keeps its
// own durable consumer, and cannot turn a consumer into a writer by
// delivering one stream into another's subjects.
func TestReadOnlyTails(t *testing.T) {
	s := withStream(t)
	nc, err := nats.Connect(s.ClientURL(), natstest.ReadOnly(), nats.Timeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Live subscription to the events.
	sub, err := nc.SubscribeSync("licensegw.events.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	gw := jetstreamOf(t, s)
	if _, err := gw.Publish(ctx, "licensegw.events.local.cad.checkout", []byte(`{"kind":"checkout"}`)); err != nil {
		t.Fatal(err)
	}
	if m, err := sub.NextMsg(20 * time.Second); err != nil || m.Subject != "licensegw.events.local.cad.checkout" {
		t.Fatalf("live event: %v, %v", m, err)
	}

	// A durable pull consumer: created, fetched from, acknowledged,
	// found again, deleted.
	js, _ := jetstream.New(nc)
	cons, err := js.CreateOrUpdateConsumer(ctx, eventsStream, jetstream.ConsumerConfig{
		Durable: "audit", AckPolicy: jetstream.AckExplicitPolicy, FilterSubject: "licensegw.events.>",
	})
	if err != nil {
		t.Fatalf("create durable consumer: %v", err)
	}
	batch, err := cons.Fetch(2, jetstream.FetchMaxWait(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range batch.Messages() {
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatalf("ack: %v", err)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("fetched %d events, want 2 (%v)", n, batch.Error())
	}
	if _, err := js.Consumer(ctx, eventsStream, "audit"); err != nil {
		t.Fatalf("consumer info: %v", err)
	}
	st, err := js.Stream(ctx, eventsStream)
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	if m, err := st.GetMsg(ctx, 1); err != nil || m.Subject != "licensegw.events.local.cad.checkin" {
		t.Fatalf("get message 1: %v, %v", m, err)
	}
	if err := js.DeleteConsumer(ctx, eventsStream, "audit"); err != nil {
		t.Fatalf("delete own consumer: %v", err)
	}
	// An ordered consumer, as the e2e readers use.
	oc, err := js.OrderedConsumer(ctx, eventsStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatalf("ordered consumer: %v", err)
	}
	if m, err := oc.Next(jetstream.FetchMaxWait(20 * time.Second)); err != nil || m.Subject() != "licensegw.events.local.cad.checkin" {
		t.Fatalf("ordered consumer next: %v, %v", m, err)
	}
	// The lifecycle stream reads by sequence.
	life, err := js.Stream(ctx, "LICENSEGW_LIFECYCLE")
	if err != nil {
		t.Fatal(err)
	}
	if m, err := life.GetMsg(ctx, 1); err != nil || m.Subject != "licensegw.gateway.started" {
		t.Fatalf("lifecycle message 1: %v, %v", m, err)
	}

	// A consumer picks its deliver subject, and JetStream stores what it
	// delivers wherever a stream listens: a push consumer on the journal
	// delivering into the journal's subjects is a cycle JetStream refuses.
	_, err = js.CreateOrUpdateConsumer(ctx, eventsStream, jetstream.ConsumerConfig{
		Name: "loop", DeliverSubject: forged, AckPolicy: jetstream.AckNonePolicy,
	})
	if err == nil {
		t.Error("a push consumer delivering the journal into its own subjects was created")
	}
	t.Logf("journal into the journal: %v", err)
	if got := msgs(t, s, eventsStream); got != 2 {
		t.Errorf("events stream holds %d messages, want 2", got)
	}
}

// TestReadOnlyCannotInject: one from another stream (the lifecycle stream,
// into the events subjects) would write into the journal, so read-only
// identities have no consumers on other streams.
func TestReadOnlyCannotInject(t *testing.T) {
	s := withStream(t)
	errOpt, asyncErrs := permissionErrors()
	nc, err := nats.Connect(s.ClientURL(), natstest.ReadOnly(), errOpt, nats.Timeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// Interest in the forged subject, as any events tail gives.
	sub, err := nc.SubscribeSync(forged)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	for _, subject := range []string{
		"$JS.API.CONSUMER.CREATE.LICENSEGW_LIFECYCLE",
		"$JS.API.CONSUMER.CREATE.LICENSEGW_LIFECYCLE.inject",
		"$JS.API.CONSUMER.DURABLE.CREATE.LICENSEGW_LIFECYCLE.inject",
	} {
		refused(t, nc, asyncErrs, subject)
	}
	if n := msgs(t, s, eventsStream); n != 1 {
		t.Errorf("events stream holds %d messages, want 1", n)
	}
}

// TestSetAuth: identities change without a restart; a removed identity's
// connection is closed, the gateway's is kept.
func TestSetAuth(t *testing.T) {
	s := withStream(t)
	in, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	closed := make(chan struct{})
	old, err := nats.Connect(s.ClientURL(), natstest.ReadOnly(), nats.Timeout(20*time.Second), nats.NoReconnect(),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()

	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	a := natstest.Auth()
	a.Identities = []natsd.Identity{{Name: "new", NKey: pub, Access: natsd.ReadOnly}}
	if err := s.SetAuth(a); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("the removed identity's connection stayed open")
	}
	if _, err := nats.Connect(s.ClientURL(), natstest.ReadOnly(), nats.Timeout(20*time.Second)); err == nil {
		t.Error("the removed identity connected again")
	}
	nc, err := nats.Connect(s.ClientURL(), nats.Nkey(pub, kp.Sign), nats.Timeout(20*time.Second))
	if err != nil {
		t.Fatalf("new identity: %v", err)
	}
	nc.Close()
	if _, err := in.Request("$JS.API.INFO", nil, 20*time.Second); err != nil {
		t.Errorf("the gateway's connection after the change: %v", err)
	}
	bad := a
	bad.Identities = []natsd.Identity{{Name: "bad", NKey: "nope", Access: natsd.ReadOnly}}
	if err := s.SetAuth(bad); !errors.Is(err, natsd.ErrIdentity) {
		t.Errorf("bad identity: %v", err)
	}
}
