package e2etest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/licensegw/licensegw/gateway/admin"
	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/gateway/token"
)

// Defaults of Options.
const (
	DefaultName         = "gw-e2e"
	DefaultStartTimeout = 60 * time.Second // generous: the machine is small and shared
	stopTimeout         = 40 * time.Second

	// startAttempts bounds the first starts of a gateway, each on new
	// ports, when a port was taken between its pick and the daemon's bind.
	startAttempts = 3

	// The harness's own listeners, named so that no template name meets them.
	adminAddrName = "licensegw admin API"
	natsAddrName  = "licensegw embedded NATS"

	// startMark opens every run's output in the log.
	startMark = "==== start"
)

// Options describe a gateway to start.
type Options struct {
	Bins Binaries // must hold licensegw and the plugins the template names

	// Config is a text/template of the configuration after the gateway,
	// admin and nats blocks (features, imports, plugins, ...). Its dot has
	// Bin, Dir, Path, TCP, UDP and TCPUDP (see the package documentation).
	Config string

	// Files are copied into the gateway's directory before it starts:
	// destination name -> source path (relative to the test's working
	// directory, the package directory). Tests may edit the copies.
	Files map[string]string

	// NATSURL, when set, points the gateway at an existing NATS server
	// (nats { url }) instead of its embedded one.
	NATSURL string
	// Admin is HCL added inside the admin block (token blocks, tls).
	Admin string
	// NATS is HCL added inside the embedded server's nats block
	// (identity blocks, tls, audit_credentials; StartCluster adds a
	// cluster block).
	NATS string

	Name         string        // the gateway's name; DefaultName when empty
	Env          []string      // added to the daemon's environment
	StartTimeout time.Duration // DefaultStartTimeout when 0
}

// Gateway is one licensegw daemon run as a subprocess, with its own
// directory, data directory and ports.
type Gateway struct {
	t    testing.TB
	opts Options

	Dir        string // the config's directory; data is in Dir/data
	ConfigPath string
	AdminAddr  string // host:port of the admin API
	NATSAddr   string // host:port of the embedded NATS server
	LogPath    string // the daemon's stdout and stderr, every run appended

	plugins []string      // names of the enabled plugins, all "running" when ready
	cluster *Cluster      // the cluster the gateway is a node of, if any
	nkey    nkeys.KeyPair // the harness's NATS identity (PrivilegedNATS), made on first use, under mu

	// The configuration template last rendered, and whether it was
	// checked: rendered again on new ports when a first start finds a
	// port taken. ready says the daemon has been ready once (its ports
	// are the test's from then on). Used by the test's goroutine only.
	tmpl      string
	unchecked bool
	ready     bool

	mu    sync.Mutex
	addrs map[string]string
	held  map[string]reservation // ports picked and held until the next start
	proc  *process
	pgids []int // every process group started, killed at cleanup
}

// process is one run of the daemon.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, set before done is closed
}

// Start writes the configuration into a new t.TempDir(), starts the daemon
// and waits until it is ready and every plugin it names runs. Cleanup kills
// every process it started, also when the test fails, and logs the daemon's
// output when the test failed.
func Start(t testing.TB, opts Options) *Gateway {
	t.Helper()
	g := New(t, opts)
	g.Start()
	return g
}

// New prepares a gateway (directory, ports, configuration, files) without
// starting it.
func New(t testing.TB, opts Options) *Gateway {
	t.Helper()
	if opts.Name == "" {
		opts.Name = DefaultName
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	dir := t.TempDir()
	g := &Gateway{
		t:          t,
		opts:       opts,
		Dir:        dir,
		ConfigPath: filepath.Join(dir, "config.hcl"),
		LogPath:    filepath.Join(dir, "gateway.log"),
		addrs:      map[string]string{},
		held:       map[string]reservation{},
	}
	t.Cleanup(g.cleanup)
	g.allocOwn()
	for dst, src := range opts.Files {
		if err := copyFile(filepath.Join(dir, dst), src); err != nil {
			t.Fatal(err)
		}
	}
	g.Reconfigure(opts.Config)
	return g
}

// allocOwn picks the ports of the harness's own listeners.
func (g *Gateway) allocOwn() {
	g.t.Helper()
	var err error
	if g.AdminAddr, err = g.alloc(adminAddrName, reserveTCP); err != nil {
		g.t.Fatal(err)
	}
	if g.NATSAddr, err = g.alloc(natsAddrName, reserveTCP); err != nil {
		g.t.Fatal(err)
	}
}

// Reconfigure renders tmpl into the configuration file, with the addresses
// already picked kept; the running daemon is not told (reload or restart
// it).
func (g *Gateway) Reconfigure(tmpl string) {
	g.t.Helper()
	g.tmpl, g.unchecked = tmpl, false
	text := g.writeConfig(tmpl)
	// The same loader as the daemon's: a configuration error shows here
	// with positions, and the plugin names say what "ready" means.
	cfg, diags := config.Load(g.ConfigPath)
	if diags.HasErrors() {
		g.t.Fatalf("configuration %s: %v\n%s", g.ConfigPath, diags, numbered(text))
	}
	g.plugins = g.plugins[:0]
	for _, p := range cfg.Plugins {
		if p.Enabled {
			g.plugins = append(g.plugins, p.Name)
		}
	}
}

// ReconfigureUnchecked renders tmpl into the configuration file like
// Reconfigure but does not load it, so a test can hand the daemon a
// configuration it must refuse. The plugins readiness waits for stay those
// of the last checked configuration.
func (g *Gateway) ReconfigureUnchecked(tmpl string) {
	g.t.Helper()
	g.tmpl, g.unchecked = tmpl, true
	g.writeConfig(tmpl)
}

// writeConfig renders tmpl into the configuration file and returns the
// text written.
func (g *Gateway) writeConfig(tmpl string) string {
	g.t.Helper()
	text, err := g.render(tmpl)
	if err != nil {
		g.t.Fatal(err)
	}
	if err := os.WriteFile(g.ConfigPath, []byte(text), 0o644); err != nil {
		g.t.Fatal(err)
	}
	if g.running() {
		// It may be told to reload at any time: the new ports are its.
		g.releasePorts()
	}
	return text
}

// Addr is the address a template picked for name; the test fails when the
// template named no such address. The addresses are final once Start has
// returned: a first start that finds a port taken starts again on new
// ones.
func (g *Gateway) Addr(name string) string {
	g.t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	a, ok := g.addrs[name]
	if !ok {
		g.t.Fatalf("the configuration template named no address %q", name)
	}
	return a
}

// Path is the absolute path of name in the gateway's directory.
func (g *Gateway) Path(name string) string { return filepath.Join(g.Dir, name) }

// WriteFile replaces the file name in the gateway's directory (a licence
// file before a reread, say).
func (g *Gateway) WriteFile(name, content string) {
	g.t.Helper()
	if err := os.WriteFile(g.Path(name), []byte(content), 0o644); err != nil {
		g.t.Fatal(err)
	}
}

// Start starts the daemon (again, on the same directory and ports) and
// waits until it is ready. If the daemon's first start fails because a
// port was taken between its pick and the daemon's bind (by another test
// or another program on the machine), it starts again on new ports.
func (g *Gateway) Start() {
	g.t.Helper()
	for attempt := 1; ; attempt++ {
		err := g.waitReady(g.launch())
		if err == nil {
			g.ready = true
			return
		}
		var exit *exitError
		if errors.As(err, &exit) && bindFailed(exit.output) && !g.ready && g.cluster == nil && attempt < startAttempts {
			g.t.Logf("%s: a port was taken before licensegw bound it; starting again on new ports: %v", g.opts.Name, exit.err)
			g.repick()
			continue
		}
		g.t.Fatal(err)
	}
}

// repick gives every address of the gateway a new port and renders the
// configuration again.
func (g *Gateway) repick() {
	g.t.Helper()
	g.releasePorts()
	g.mu.Lock()
	g.addrs = map[string]string{}
	g.mu.Unlock()
	g.allocOwn()
	if g.unchecked {
		g.ReconfigureUnchecked(g.tmpl)
	} else {
		g.Reconfigure(g.tmpl)
	}
}

// Launch starts the daemon without waiting for it to be ready (a cluster's
// standby node is not ready until it leads).
func (g *Gateway) Launch() {
	g.t.Helper()
	g.launch()
}

func (g *Gateway) launch() *process {
	g.t.Helper()
	p, err := g.start()
	if err != nil {
		g.t.Fatal(err)
	}
	return p
}

// Relaunch starts the daemon again if it is not running (it exited, or
// the harness killed it), without waiting for it to be ready, as a
// supervisor such as systemd does; unlike Launch it may be called from
// any goroutine, and returns what went wrong instead of failing the test.
// started says whether it started a process.
func (g *Gateway) Relaunch() (started bool, err error) {
	if g.running() {
		return false, nil
	}
	if _, err := g.start(); err != nil {
		return false, err
	}
	return true, nil
}

// start starts one run of the daemon.
func (g *Gateway) start() (*process, error) {
	g.waitGone(stopTimeout)
	logf, err := os.OpenFile(g.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(logf, "%s %s\n", startMark, time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(g.opts.Bins.Path("licensegw"), "serve", "-config", g.ConfigPath)
	cmd.Dir = g.Dir
	cmd.Env = append(os.Environ(), g.opts.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: cleanup kills the daemon and the plugins it
	// started with one signal, whatever state a failed test left them in.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	g.releasePorts() // as late as can be: the daemon binds them now
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start licensegw: %w", err)
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
	return p, nil
}

// exitError is a daemon that exited during its start, with its output.
type exitError struct {
	err    error  // the process's exit
	output string // what this run of the daemon wrote
}

func (e *exitError) Error() string {
	return fmt.Sprintf("licensegw exited during start: %v\n%s", e.err, e.output)
}

// waitReady polls /readyz and the plugins' states until all are good; it
// fails if the daemon exits or is not ready in time.
func (g *Gateway) waitReady(p *process) error {
	deadline := time.Now().Add(g.opts.StartTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return &exitError{err: p.err, output: g.runLog()}
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c := g.Admin() // the token file appears during the first start
		last = c.Ready(ctx)
		if last == nil {
			var st *admin.Status
			if st, last = c.Status(ctx); last == nil {
				last = running(st, g.plugins)
			}
		}
		cancel()
		if last == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("gateway not ready after %s: %w\n%s", g.opts.StartTimeout, last, g.Log())
}

// ErrNotRunning is what readiness waits out: a plugin not (yet) running.
var ErrNotRunning = errors.New("plugin not running")

func running(st *admin.Status, want []string) error {
	state := map[string]string{}
	for _, p := range st.Plugins {
		state[p.Name] = p.State
	}
	for _, name := range want {
		if s := state[name]; s != "running" {
			return fmt.Errorf("%w: %s is %q", ErrNotRunning, name, s)
		}
	}
	return nil
}

// PID is the running daemon's process id.
func (g *Gateway) PID() int {
	g.t.Helper()
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
			g.t.Errorf("licensegw exited with %v after SIGTERM", p.err)
		}
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		g.t.Fatalf("licensegw still running %s after SIGTERM", stopTimeout)
	}
}

// Terminate sends SIGTERM and waits up to the harness's stop timeout,
// returning the exit error (nil for status 0) and how long the daemon took;
// unlike Stop it does not fail the test on a non-zero status.
func (g *Gateway) Terminate() (error, time.Duration) {
	g.t.Helper()
	p := g.take()
	if p == nil {
		return nil, 0
	}
	start := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err, time.Since(start)
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		g.t.Fatalf("licensegw still running %s after SIGTERM", stopTimeout)
		return nil, 0
	}
}

// Kill sends SIGKILL to the daemon alone (its plugins must notice by
// themselves) and waits until it is gone.
func (g *Gateway) Kill() {
	g.t.Helper()
	p := g.take()
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Restart stops the daemon (SIGTERM) if it runs and starts it again with
// the same directory, data and ports.
func (g *Gateway) Restart() {
	g.t.Helper()
	g.Stop()
	g.Start()
}

// running reports whether the daemon's process was started, has not
// been stopped or killed by the harness and has not exited.
func (g *Gateway) running() bool {
	g.mu.Lock()
	p := g.proc
	g.mu.Unlock()
	if p == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (g *Gateway) take() *process {
	g.mu.Lock()
	defer g.mu.Unlock()
	p := g.proc
	g.proc = nil
	return p
}

// cleanup kills every process group the gateway started and shows the
// daemon's output when the test failed.
func (g *Gateway) cleanup() {
	g.killAll()
	g.releasePorts()
	if g.t.Failed() {
		g.t.Logf("gateway log (%s):\n%s", g.LogPath, g.Log())
	}
}

// killAll kills every process group the gateway started (the daemon and
// its plugins) and waits a while for the daemon to be gone.
func (g *Gateway) killAll() {
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
}

// waitGone waits, up to timeout, until no process of the runs started
// before is left, as a supervisor waits for a stopped unit's processes:
// a plugin that outlives its daemon for a moment still holds the sockets
// the next run is to bind (a restarted Sentinel-style gateway once found
// its UDP port taken so). After timeout the run starts all the same.
func (g *Gateway) waitGone(timeout time.Duration) {
	g.mu.Lock()
	pgids := slices.Clone(g.pgids)
	g.mu.Unlock()
	deadline := time.Now().Add(timeout)
	for _, pg := range pgids {
		for syscall.Kill(-pg, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// portTakenAtStart says whether the daemon exited because a port it was
// to bind was taken.
func (g *Gateway) portTakenAtStart() bool {
	g.mu.Lock()
	p := g.proc
	g.mu.Unlock()
	if p == nil {
		return false
	}
	select {
	case <-p.done:
		return bindFailed(g.runLog())
	default:
		return false
	}
}

// runLog is what the daemon's latest run wrote, at most its last 64 KiB.
func (g *Gateway) runLog() string {
	log := g.Log()
	if i := strings.LastIndex(log, startMark); i >= 0 {
		return log[i:]
	}
	return log
}

// Log returns the daemon's output so far, at most its last 64 KiB.
func (g *Gateway) Log() string {
	b, err := os.ReadFile(g.LogPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	const max = 64 << 10
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

// Admin is a client of the gateway's admin API with the admin token the
// gateway made in its data directory (none before the first start).
func (g *Gateway) Admin() *admin.Client {
	tok, err := token.ReadFile(g.TokenFile())
	if err != nil {
		return admin.NewClient(g.AdminAddr)
	}
	return admin.NewClient(g.AdminAddr, admin.WithToken(tok))
}

// AdminGet GETs path (e.g. "/metrics") from the admin API with the admin
// token, for what the typed client does not cover.
func (g *Gateway) AdminGet(path string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+g.AdminAddr+path, nil)
	if err != nil {
		return nil, err
	}
	if tok, err := token.ReadFile(g.TokenFile()); err == nil {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return http.DefaultClient.Do(req)
}

// TokenFile is the admin token the gateway makes at first start.
func (g *Gateway) TokenFile() string { return filepath.Join(g.Dir, "data", config.DefaultTokenFile) }

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

// Feature is the admin status of the feature called name (the first, when
// several vendors or versions share it); the test fails when there is none.
func (g *Gateway) Feature(name string) admin.Feature {
	g.t.Helper()
	for _, f := range g.Status().Features {
		if f.Name == name {
			return f
		}
	}
	g.t.Fatalf("no feature %q in the admin status", name)
	return admin.Feature{}
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Close()
}

// numbered is text with line numbers, to read a configuration error.
func numbered(text string) string {
	var b []byte
	line := 1
	b = fmt.Appendf(b, "%4d | ", line)
	for i := 0; i < len(text); i++ {
		b = append(b, text[i])
		if text[i] == '\n' && i+1 < len(text) {
			line++
			b = fmt.Appendf(b, "%4d | ", line)
		}
	}
	return string(b)
}

// Plugin is the admin status of the plugin called name; the test fails
// when the gateway has no such plugin.
func (g *Gateway) Plugin(name string) admin.Plugin {
	g.t.Helper()
	for _, p := range g.Status().Plugins {
		if p.Name == name {
			return p
		}
	}
	g.t.Fatalf("no plugin %q in the admin status", name)
	return admin.Plugin{}
}

// KillPlugin sends SIGKILL to the plugin called name and waits, up to
// timeout, until the gateway has restarted it: running again under another
// process id.
func (g *Gateway) KillPlugin(name string, timeout time.Duration) {
	g.t.Helper()
	old := g.Plugin(name)
	if err := syscall.Kill(old.PID, syscall.SIGKILL); err != nil {
		g.t.Errorf("kill plugin %s: %v", name, err)
	}
	Eventually(g.t, timeout, "plugin "+name+" restarted", func() error {
		if p := g.Plugin(name); p.State != "running" || p.PID == old.PID {
			return fmt.Errorf("plugin %+v", p)
		}
		return nil
	})
}
