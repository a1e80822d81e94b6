package natsd_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
)

// syncBuffer is a bytes.Buffer safe for the server's logging goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestStartTCPAndInProcess(t *testing.T) {
	var out syncBuffer
	log := hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: &out})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	s, err := natsd.Start(ctx, natsd.Config{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), Name: "n1", Auth: natstest.Auth()}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)

	url := s.ClientURL()
	if !strings.HasPrefix(url, "nats://127.0.0.1:") || strings.HasSuffix(url, ":4222") || strings.HasSuffix(url, ":-1") {
		t.Fatalf("ClientURL = %q, want a random loopback port", url)
	}
	tcp, err := nats.Connect(url, natstest.FullAccess())
	if err != nil {
		t.Fatalf("TCP connect: %v", err)
	}
	defer tcp.Close()
	in, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if in.ConnectedUrl() == url {
		t.Errorf("in-process connection went through %s", url)
	}

	// A message crosses from the in-process connection to the TCP one.
	sub, err := tcp.SubscribeSync("hello")
	if err != nil {
		t.Fatal(err)
	}
	if err := tcp.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := in.Publish("hello", []byte("world")); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.NextMsg(5 * time.Second)
	if err != nil || string(msg.Data) != "world" {
		t.Fatalf("NextMsg = %v, %v", msg, err)
	}

	// JetStream is on.
	js, err := jetstream.New(in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AccountInfo(ctx); err != nil {
		t.Fatalf("JetStream not enabled: %v", err)
	}

	// nats-server's own log lines reach hclog.
	if !strings.Contains(out.String(), "Server is ready") {
		t.Errorf("server log not routed into hclog; got:\n%s", out.String())
	}
}

func TestNoListen(t *testing.T) {
	ctx := context.Background()
	s, err := natsd.Start(ctx, natsd.Config{NoListen: true, StoreDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	if u := s.ClientURL(); u != "" {
		t.Errorf("ClientURL = %q, want empty without a listener", u)
	}
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Request("$JS.API.INFO", nil, 5*time.Second); err != nil {
		t.Fatalf("JetStream request in-process: %v", err)
	}
}

func TestStartErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	tests := []struct {
		name    string
		cfg     natsd.Config
		wantErr error
	}{
		{"no store", natsd.Config{Listen: "127.0.0.1:0"}, nil},
		{"bad address", natsd.Config{Listen: "localhost", StoreDir: t.TempDir()}, nil},
		{"bad port", natsd.Config{Listen: "127.0.0.1:http", StoreDir: t.TempDir()}, nil},
		{"port in use", natsd.Config{Listen: busy.Addr().String(), StoreDir: t.TempDir()}, natsd.ErrNotReady},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			s, err := natsd.Start(ctx, tt.cfg, nil)
			if err == nil {
				s.Shutdown()
				t.Fatal("Start succeeded")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestNatstestRestartOnSameStore(t *testing.T) {
	dir := t.TempDir()
	s := natstest.StartAt(t, dir)
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "s.1", []byte("x")); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	s.Shutdown()

	s2 := natstest.StartAt(t, dir)
	nc2, err := s2.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	js2, _ := jetstream.New(nc2)
	st, err := js2.Stream(ctx, "S")
	if err != nil {
		t.Fatal(err)
	}
	if n := st.CachedInfo().State.Msgs; n != 1 {
		t.Fatalf("after restart the stream has %d messages, want 1", n)
	}
}
