package natstest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/licensegw/licensegw/gateway/natsd"
)

// clusterReady bounds how long StartCluster waits for the cluster to
// accept replicated streams: generous, for -race on a loaded machine.
const clusterReady = 60 * time.Second

// StartCluster runs n embedded servers on loopback as one NATS cluster
// with JetStream, each with its store in t.TempDir() and a random client
// port. JetStream needs every node's routes configured before it starts,
// so route ports are reserved first (bound to :0, read, released); if one
// was taken in between, the whole cluster is started again on new ports.
// StartCluster returns once the cluster accepts a stream with n replicas;
// the servers are shut down when the test ends.
func StartCluster(t testing.TB, n int) []*natsd.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterReady)
	defer cancel()
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		srvs, err := startCluster(ctx, t, n)
		if err == nil {
			return srvs
		}
		last = err
		for _, s := range srvs {
			s.Shutdown()
		}
	}
	t.Fatalf("natstest: cluster of %d: %v", n, last)
	return nil
}

func startCluster(ctx context.Context, t testing.TB, n int) ([]*natsd.Server, error) {
	routes, err := reservePorts(n)
	if err != nil {
		return nil, err
	}
	dir := t.TempDir()
	var srvs []*natsd.Server
	for i := range n {
		name := fmt.Sprintf("n%d", i+1)
		log := hclog.New(&hclog.LoggerOptions{Name: "nats " + name, Level: hclog.Warn, Output: testWriter{t}})
		s, err := natsd.Start(ctx, natsd.Config{
			Listen: "127.0.0.1:0", StoreDir: filepath.Join(dir, name), Name: name,
			Cluster: &natsd.Cluster{Name: "test", Listen: routes[i], Routes: routes},
			Auth:    Auth(),
		}, log)
		if err != nil {
			return srvs, fmt.Errorf("node %s: %w", name, err)
		}
		t.Cleanup(s.Shutdown)
		srvs = append(srvs, s)
	}
	if err := waitReplicas(ctx, srvs[0], n); err != nil {
		return srvs, err
	}
	return srvs, nil
}

// reservePorts finds n free loopback ports for routes.
func reservePorts(n int) ([]string, error) {
	var addrs []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, nil
}

// waitReplicas waits until JetStream places a stream with r replicas:
// then a meta leader is elected and knows r servers. A probe stream is
// created, retried while JetStream is not ready, and deleted.
func waitReplicas(ctx context.Context, s *natsd.Server, r int) error {
	nc, err := s.Connect()
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	cfg := jetstream.StreamConfig{Name: "NATSTEST_PROBE", Subjects: []string{"natstest.probe"}, Replicas: r, Storage: jetstream.MemoryStorage}
	var last error
	for ctx.Err() == nil {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, last = js.CreateOrUpdateStream(c, cfg)
		if last == nil {
			last = js.DeleteStream(c, cfg.Name)
		}
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.Join(ctx.Err(), last)
}

// WaitStreamLeader waits until the named stream has a leader and returns
// its server name.
func WaitStreamLeader(ctx context.Context, js jetstream.JetStream, stream string) (string, error) {
	var last error
	for ctx.Err() == nil {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := js.Stream(c, stream)
		var info *jetstream.StreamInfo
		if err == nil {
			info, err = st.Info(c)
		}
		cancel()
		if err == nil && info.Cluster != nil && info.Cluster.Leader != "" {
			return info.Cluster.Leader, nil
		}
		last = err
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	return "", errors.Join(ctx.Err(), last)
}
