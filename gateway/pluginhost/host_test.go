package pluginhost

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// events records Lifecycle calls.
type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) record(_ context.Context, plugin, what string, _ map[string]any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, plugin+" "+what)
}

func (e *events) count(s string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, x := range e.list {
		if x == s {
			n++
		}
	}
	return n
}

// fixture is a Host running the minimal plugin with one "cad" seat.
type fixture struct {
	host   *Host
	seats  *sdktest.Seats
	events *events
	addr   string
}

// startMinimal runs the minimal plugin under a Host; with, if given,
// changes its Spec first.
func startMinimal(t *testing.T, sum string, config map[string]any, with ...func(*Spec)) (*fixture, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := Describe(ctx, minimalPlugin, nil, "", testLogger(t))
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	f := &fixture{seats: sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1}), events: &events{}}
	f.host = New(Options{
		DataDir:   t.TempDir(),
		Seats:     func(plugin, protocol string) sdk.Seats { return f.seats },
		Lifecycle: f.events.record,
		Log:       testLogger(t),
		Backoff:   struct{ Min, Max time.Duration }{50 * time.Millisecond, time.Second},
	})
	spec := Spec{
		Name: "mini", Path: minimalPlugin, SHA256: sum, Info: info,
		Listen: map[string]string{"tcp": "127.0.0.1:0"}, Config: sdk.NewConfig(config),
	}
	for _, f := range with {
		f(&spec)
	}
	if err := f.host.Start(ctx, []Spec{spec}); err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = f.host.Stop(ctx)
	})
	f.addr = f.host.Status()[0].Listeners["tcp"]
	return f, nil
}

// lineClient speaks the minimal protocol.
type lineClient struct {
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, addr string) *lineClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	return &lineClient{conn: conn, r: bufio.NewReader(conn)}
}

func (c *lineClient) do(t *testing.T, line string) string {
	t.Helper()
	if _, err := fmt.Fprintln(c.conn, line); err != nil {
		t.Fatalf("send %q: %v", line, err)
	}
	return c.read(t)
}

func (c *lineClient) read(t *testing.T) string {
	t.Helper()
	s, err := c.r.ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return strings.TrimSpace(s)
}

// checkoutCycle takes the one seat, is denied a second, and gives it back.
func checkoutCycle(t *testing.T, c *lineClient) {
	t.Helper()
	got := c.do(t, "OUT cad ann ws1")
	lease, ok := strings.CutPrefix(got, "OK ")
	if !ok {
		t.Fatalf("OUT: %q", got)
	}
	if got := c.do(t, "OUT cad bob ws2"); got != "NO no-seats" {
		t.Fatalf("second OUT: %q, want NO no-seats", got)
	}
	if got := c.do(t, "IN "+lease); got != "OK" {
		t.Fatalf("IN: %q", got)
	}
	if got := c.do(t, "IN "+lease); got != "NO unknown" {
		t.Fatalf("second IN: %q", got)
	}
}

func TestDescribe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := Describe(ctx, minimalPlugin, nil, sha256File(t, minimalPlugin), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "minimal" || info.APIVersion != sdk.APIVersion || len(info.Listeners) != 1 || info.Config[0].Name != "greeting" {
		t.Fatalf("info: %+v", info)
	}
	if _, err := Describe(ctx, minimalPlugin, nil, strings.Repeat("0", 64), nil); !errors.Is(err, ErrChecksum) {
		t.Fatalf("Describe with a wrong checksum: %v", err)
	}
}

func TestProtocolThroughHost(t *testing.T) {
	f, err := startMinimal(t, sha256File(t, minimalPlugin), map[string]any{"greeting": "hello from the gateway"})
	if err != nil {
		t.Fatal(err)
	}
	st := f.host.Status()
	if len(st) != 1 || st[0].State != StateRunning || st[0].PID <= 0 || st[0].Protocol != "minimal" || st[0].Version != "0.1.0" {
		t.Fatalf("status: %+v", st)
	}
	c := dial(t, f.addr)
	if got := c.read(t); got != "hello from the gateway" {
		t.Fatalf("greeting (config pass-through): %q", got)
	}
	checkoutCycle(t, c)
	if got := c.do(t, "OUT nothing ann ws1"); got != "NO unknown-feature" {
		t.Fatalf("unknown feature: %q", got)
	}
	if n := f.events.count("mini started"); n != 1 {
		t.Fatalf("%d started events, want 1", n)
	}
}

func TestChecksumMismatchRefused(t *testing.T) {
	_, err := startMinimal(t, strings.Repeat("ab", 32), nil)
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("Start with a wrong checksum: %v, want ErrChecksum", err)
	}
	_, err = startMinimal(t, "not-hex", nil)
	if err == nil {
		t.Fatal("Start with a malformed checksum succeeded")
	}
}

func TestRestartKeepsPortOpen(t *testing.T) {
	f, err := startMinimal(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	pid := f.host.Status()[0].PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the host to notice the exit", func() bool { return f.host.Status()[0].PID != pid })

	// The port never closed: this connection waits in the backlog while
	// the plugin is down and is served by its successor.
	c := dial(t, f.addr)
	waitFor(t, "the restart", func() bool {
		s := f.host.Status()[0]
		return s.State == StateRunning && s.PID > 0 && s.PID != pid && s.Restarts == 1
	})
	checkoutCycle(t, c)
	if st := f.host.Status()[0]; !strings.Contains(st.LastError, "exited") {
		t.Fatalf("LastError after a crash: %q", st.LastError)
	}
	if f.events.count("mini exited") != 1 || f.events.count("mini started") != 2 {
		t.Fatalf("lifecycle events: %v", f.events.list)
	}
}

func TestStopIsGraceful(t *testing.T) {
	f, err := startMinimal(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	pid := f.host.Status()[0].PID
	c := dial(t, f.addr)
	checkoutCycle(t, c)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := f.host.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Stop took %v", d)
	}
	// Serve closed the client's connection before the plugin went away.
	if _, err := c.r.ReadString('\n'); err == nil {
		t.Fatal("client connection still open after Stop")
	}
	waitFor(t, "the plugin process to exit", func() bool { return !alive(pid) })
	if _, err := net.DialTimeout("tcp", f.addr, time.Second); err == nil {
		t.Fatal("port still open after Stop")
	}
	if st := f.host.Status()[0]; st.State != StateStopped || st.PID != 0 {
		t.Fatalf("status after Stop: %+v", st)
	}
	if f.events.count("mini exited") != 1 {
		t.Fatalf("lifecycle events: %v", f.events.list)
	}
}

// A plugin whose gateway is killed -9 exits by itself.
func TestPluginExitsWithHost(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), fakeHostEnv+"="+minimalPlugin)
	cmd.Stderr = t.Output()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("fake host: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || !alive(pid) {
		t.Fatalf("fake host reported plugin pid %q (%v)", line, err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	waitFor(t, "the orphaned plugin to exit", func() bool { return !alive(pid) })
}

// alive reports whether pid is a live process (a zombie is not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	// The state follows the parenthesised command name.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || (s[i+2] != 'Z' && s[i+2] != 'X')
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A Start that fails leaves nothing behind: no process, no socket.
func TestStartFailureLeavesNothing(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := Describe(ctx, minimalPlugin, nil, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var started []int
	h := New(Options{
		Seats: func(string, string) sdk.Seats { return sdktest.NewSeats() },
		Lifecycle: func(_ context.Context, _, what string, info map[string]any) {
			if what == "started" {
				started = append(started, info["pid"].(int))
			}
		},
		Log: testLogger(t),
	})
	free := Spec{Name: "a", Path: minimalPlugin, Info: info, Listen: map[string]string{"tcp": "127.0.0.1:0"}}
	clash := Spec{Name: "b", Path: minimalPlugin, Info: info, Listen: map[string]string{"tcp": busy.Addr().String()}}
	if err := h.Start(ctx, []Spec{free, clash}); err == nil || !strings.Contains(err.Error(), `plugin "b"`) {
		t.Fatalf("Start: %v, want an error about plugin b", err)
	}
	if len(started) != 1 {
		t.Fatalf("started %v, want plugin a only", started)
	}
	waitFor(t, "plugin a to be gone", func() bool { return !alive(started[0]) })
	if err := h.Start(ctx, []Spec{free, free}); err == nil {
		t.Fatal("Start with a duplicate name succeeded")
	}
}
