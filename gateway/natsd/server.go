package natsd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// DefaultListen is the client address used when Config.Listen is empty.
const DefaultListen = "127.0.0.1:4222"

// readyTimeout bounds how long Start waits for the server to accept clients.
const readyTimeout = 10 * time.Second

// ErrNotReady is returned by Start when the server did not become ready to
// accept connections in time (typically: the port is already in use).
var ErrNotReady = errors.New("natsd: server not ready for connections")

// Config says how to run the embedded server.
type Config struct {
	// Listen is the client address, host:port. Empty means DefaultListen;
	// port 0 means a random free port (see Server.ClientURL).
	Listen string
	// StoreDir is the JetStream file store directory; it is created if
	// missing.
	StoreDir string
	// Name is the server's name, shown in logs and monitoring.
	Name string
	// NoListen runs the server in-process only, without a TCP port; only
	// Server.Connect reaches it.
	NoListen bool
	// Cluster, when set, makes the server a node of a NATS cluster
	// (cluster.go); nil runs a single server.
	Cluster *Cluster
	// Auth says who may connect over the network; with no identities,
	// nobody may. Server.Connect always may.
	Auth Auth
	// TLS, when set, is required of every client of the listener; with
	// ClientAuth tls.RequireAndVerifyClientCert, so is a client
	// certificate, on top of credentials. In-process connections need
	// neither.
	TLS *tls.Config
}

// Server is a running embedded NATS server with JetStream.
type Server struct {
	ns  *server.Server
	gw  *gatewayIdentity // what Connect authenticates with
	log hclog.Logger

	optsMu sync.Mutex      // serialises SetAuth
	opts   *server.Options // the options running, for SetAuth
}

// Start starts nats-server with JetStream and waits until it accepts
// connections. The server runs until Shutdown; ctx bounds only the start.
func Start(ctx context.Context, cfg Config, log hclog.Logger) (*Server, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	gw, err := newGatewayIdentity()
	if err != nil {
		return nil, err
	}
	opts, err := options(cfg, gw)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.StoreDir, 0o750); err != nil {
		return nil, fmt.Errorf("natsd: store directory: %w", err)
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("natsd: %w", err)
	}
	fatal := make(chan string, 1)
	ns.SetLoggerV2(hclogAdapter{log: log, fatal: fatal}, log.IsDebug(), log.IsTrace(), false)
	ns.Start()

	if err := waitReady(ctx, ns, fatal); err != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, err
	}
	if !ns.JetStreamEnabled() {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("natsd: JetStream did not start (store %q)", cfg.StoreDir)
	}
	return &Server{ns: ns, gw: gw, log: log, opts: opts.Clone()}, nil
}

// waitReady waits until ns accepts clients, or fails on the first fatal
// server error, the end of ctx, or readyTimeout.
func waitReady(ctx context.Context, ns *server.Server, fatal <-chan string) error {
	deadline := time.Now().Add(readyTimeout)
	for !ns.ReadyForConnections(50 * time.Millisecond) {
		select {
		case msg := <-fatal:
			return fmt.Errorf("%w: %s", ErrNotReady, msg)
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrNotReady, ctx.Err())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w within %v", ErrNotReady, readyTimeout)
		}
	}
	return nil
}

// options turns cfg into nats-server options.
func options(cfg Config, gw *gatewayIdentity) (*server.Options, error) {
	if cfg.StoreDir == "" {
		return nil, errors.New("natsd: StoreDir is required")
	}
	opts := &server.Options{
		ServerName: cfg.Name,
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		NoSigs:     true, // signals belong to the gateway, not to the library
		DontListen: cfg.NoListen,
		// No HTTP monitoring: the gateway's admin API reports what
		// operators need.
	}
	if err := clusterOptions(opts, cfg.Cluster); err != nil {
		return nil, err
	}
	if cfg.Cluster != nil {
		withSystemAccount(opts)
	}
	if err := applyAuth(opts, cfg.Auth, gw); err != nil {
		return nil, err
	}
	if err := applyTLS(opts, cfg.TLS); err != nil {
		return nil, err
	}
	if cfg.NoListen {
		return opts, nil
	}
	listen := cfg.Listen
	if listen == "" {
		listen = DefaultListen
	}
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("natsd: listen %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("natsd: listen %q: bad port", listen)
	}
	if port == 0 {
		port = server.RANDOM_PORT // nats-server's spelling of "any free port"
	}
	opts.Host, opts.Port = host, port
	return opts, nil
}

// ClientURL is the nats:// URL clients use to reach the server, with the
// port actually bound. It is empty for a NoListen server.
func (s *Server) ClientURL() string {
	if s.ns.Addr() == nil {
		return ""
	}
	return s.ns.ClientURL()
}

// Connect opens a connection to the server in-process: no TCP socket, no
// loopback round trip. The gateway's own journal uses it. The connection
// has every permission: it authenticates with a key made in memory when
// the server started, which the server accepts on in-process connections
// only, so no credential for it exists on disk or on the network.
func (s *Server) Connect(opts ...nats.Option) (*nats.Conn, error) {
	opts = append([]nats.Option{nats.InProcessServer(s.ns), nats.Name("licensegw"), s.gw.option()}, opts...)
	nc, err := nats.Connect("", opts...)
	if err != nil {
		return nil, fmt.Errorf("natsd: connect in-process: %w", err)
	}
	return nc, nil
}

// NATS returns the underlying nats-server, for what this package does not
// wrap (monitoring, account and JetStream introspection).
func (s *Server) NATS() *server.Server { return s.ns }

// Shutdown stops the server and waits until it has stopped: every
// JetStream store is flushed and closed when it returns.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}
