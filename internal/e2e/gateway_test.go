package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/admin"
)

// startTimeout bounds a gateway's start: the machine is small and shared, so
// it is generous; tests poll and never sleep it out.
const startTimeout = 45 * time.Second

// Gateway is one licensegw daemon run as a subprocess with its own data
// directory and free ports, plus the concurrent-lm plugin it starts.
type Gateway struct {
	t *testing.T

	Dir        string // the data directory's parent and the config's directory
	ConfigPath string
	AdminAddr  string // host:port of the admin API
	NATSAddr   string // host:port of the embedded NATS server
	CLMAddr    string // host:port of the plugin, TCP and UDP

	features     string // feature blocks, HCL
	pluginConfig string // the plugin's config { } body, HCL
	logPath      string

	mu    sync.Mutex
	proc  *process // the running daemon, nil when stopped
	pgids []int    // every process group started, killed in cleanup
}

// process is one run of the daemon.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, set before done is closed
}

// Option adjusts a gateway before it starts.
type Option func(*Gateway)

// WithPluginConfig sets the body of the plugin's config { } block.
func WithPluginConfig(body string) Option {
	return func(g *Gateway) { g.pluginConfig = body }
}

// StartGateway writes a configuration holding features (HCL feature blocks)
// on free ports, starts the daemon and waits until it and its plugin serve.
// Cleanup kills every process it started, also when the test fails.
func StartGateway(t *testing.T, features string, opts ...Option) *Gateway {
	t.Helper()
	dir := t.TempDir()
	g := &Gateway{
		t:          t,
		Dir:        dir,
		ConfigPath: filepath.Join(dir, "config.hcl"),
		AdminAddr:  freeTCPAddr(t),
		NATSAddr:   freeTCPAddr(t),
		CLMAddr:    freeTCPUDPAddr(t),
		features:   features,
		logPath:    filepath.Join(dir, "gateway.log"),
	}
	for _, o := range opts {
		o(g)
	}
	g.writeConfig()
	t.Cleanup(g.cleanup)
	g.Start()
	return g
}

// SetFeatures rewrites the configuration with other feature blocks (for a
// reload); the gateway is not told.
func (g *Gateway) SetFeatures(features string) {
	g.features = features
	g.writeConfig()
}

func (g *Gateway) writeConfig() {
	g.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `gateway {
  name     = "gw-e2e"
  data_dir = "./data"
}
admin {
  listen = %q
}
nats {
  embedded = true
  listen   = %q
}
%s
plugin "concurrentlm" {
  path   = %q
  listen = { tcp = %q, udp = %q }
`, g.AdminAddr, g.NATSAddr, g.features, bins.plugin, g.CLMAddr, g.CLMAddr)
	if g.pluginConfig != "" {
		fmt.Fprintf(&b, "  config {\n%s\n  }\n", g.pluginConfig)
	}
	b.WriteString("}\n")
	if err := os.WriteFile(g.ConfigPath, []byte(b.String()), 0o644); err != nil {
		g.t.Fatal(err)
	}
}

// Start starts the daemon (again, on the same data directory and ports) and
// waits until it is ready and its plugin runs.
func (g *Gateway) Start() {
	g.t.Helper()
	logf, err := os.OpenFile(g.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		g.t.Fatal(err)
	}
	fmt.Fprintf(logf, "==== start %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(bins.licensegw, "serve", "-config", g.ConfigPath)
	cmd.Dir = g.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: cleanup kills the daemon and the plugins it
	// started in one signal, whatever state a failed test left them in.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		g.t.Fatalf("start licensegw: %v", err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	g.mu.Lock()
	g.proc = p
	g.pgids = append(g.pgids, cmd.Process.Pid)
	g.mu.Unlock()
	g.waitReady(p)
}

// waitReady polls /readyz and the plugin's state until both are good.
func (g *Gateway) waitReady(p *process) {
	g.t.Helper()
	c := g.Admin()
	deadline := time.Now().Add(startTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			g.t.Fatalf("licensegw exited during start: %v\n%s", p.err, g.Log())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		last = c.Ready(ctx)
		if last == nil {
			var st *admin.Status
			st, last = c.Status(ctx)
			if last == nil {
				last = pluginsRunning(st)
			}
		}
		cancel()
		if last == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	g.t.Fatalf("gateway not ready after %s: %v\n%s", startTimeout, last, g.Log())
}

func pluginsRunning(st *admin.Status) error {
	if len(st.Plugins) == 0 {
		return errors.New("no plugin in status")
	}
	for _, p := range st.Plugins {
		if p.State != "running" {
			return fmt.Errorf("plugin %s is %s", p.Name, p.State)
		}
	}
	return nil
}

// PID is the running daemon's process id.
func (g *Gateway) PID() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.proc == nil {
		g.t.Fatal("gateway not running")
	}
	return g.proc.cmd.Process.Pid
}

// Stop sends SIGTERM and waits for a clean exit.
func (g *Gateway) Stop() {
	g.t.Helper()
	p := g.take()
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			g.t.Errorf("licensegw exited with %v after SIGTERM\n%s", p.err, g.Log())
		}
	case <-time.After(40 * time.Second):
		_ = p.cmd.Process.Kill()
		g.t.Fatalf("licensegw still running 40s after SIGTERM\n%s", g.Log())
	}
}

// Kill sends SIGKILL to the daemon alone (not its plugin: the plugin must
// notice by itself) and waits until the daemon is gone.
func (g *Gateway) Kill() {
	g.t.Helper()
	p := g.take()
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Restart starts the daemon again after Stop or Kill.
func (g *Gateway) Restart() {
	g.t.Helper()
	g.Start()
}

func (g *Gateway) take() *process {
	g.mu.Lock()
	defer g.mu.Unlock()
	p := g.proc
	g.proc = nil
	return p
}

// cleanup kills every process group the gateway started and shows the log
// of a failed test.
func (g *Gateway) cleanup() {
	g.mu.Lock()
	p := g.proc
	g.proc = nil
	pgids := g.pgids
	g.mu.Unlock()
	for _, pg := range pgids {
		_ = syscall.Kill(-pg, syscall.SIGKILL)
	}
	if p != nil {
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
		}
	}
	if g.t.Failed() {
		g.t.Logf("gateway log (%s):\n%s", g.logPath, g.Log())
	}
}

// Log returns the daemon's output so far, at most its last 64 KiB.
func (g *Gateway) Log() string {
	b, err := os.ReadFile(g.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	const max = 64 << 10
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

// Admin is a client of the gateway's admin API.
func (g *Gateway) Admin() *admin.Client {
	return admin.NewClient(g.AdminAddr)
}

// Status fetches the admin status or fails the test.
func (g *Gateway) Status() *admin.Status {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := g.Admin().Status(ctx)
	if err != nil {
		g.t.Fatalf("admin status: %v", err)
	}
	return st
}

// Feature is one feature of the admin status; it fails the test when the
// gateway has no such feature.
func (g *Gateway) Feature(name string) admin.Feature {
	g.t.Helper()
	for _, f := range g.Status().Features {
		if f.Name == name {
			return f
		}
	}
	g.t.Fatalf("no feature %q in admin status", name)
	return admin.Feature{}
}

// Plugin is the concurrent-lm plugin's admin status.
func (g *Gateway) Plugin() admin.Plugin {
	g.t.Helper()
	st := g.Status()
	if len(st.Plugins) != 1 {
		g.t.Fatalf("admin status has %d plugins, want 1", len(st.Plugins))
	}
	return st.Plugins[0]
}

// CLI runs the licensegw command against this gateway's admin API and
// returns its exit status, stdout and stderr.
func (g *Gateway) CLI(ctx context.Context, args ...string) (int, string, string) {
	g.t.Helper()
	return runBinary(ctx, g.t, bins.licensegw, append([]string{}, args...), "LICENSEGW_ADDR="+g.AdminAddr)
}

// runBinary runs a built binary to its end.
func runBinary(ctx context.Context, t *testing.T, bin string, args []string, env ...string) (int, string, string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	default:
		t.Fatalf("run %s %v: %v", bin, args, err)
		return -1, "", ""
	}
}

// eventually polls cond until it returns nil or the timeout passes, and
// fails the test with cond's last error.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s: %v", what, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeTCPAddr returns a loopback address with a port that was free a moment
// ago.
func freeTCPAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// freeTCPUDPAddr returns a loopback address whose port is free for both TCP
// and UDP.
func freeTCPUDPAddr(t *testing.T) string {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		u, err := net.ListenPacket("udp", addr)
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		return addr
	}
	t.Fatal("no port free for both TCP and UDP")
	return ""
}
