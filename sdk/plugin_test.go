//go:build unix

package sdk_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// outPlugin answers "OUT <feature>" lines with "OK <lease>" or
// "NO <reason>"; with config fail = true its Serve fails at once.
type outPlugin struct{}

func (outPlugin) Info() sdk.Info {
	return sdk.Info{
		Name: "out", Version: "1", APIVersion: sdk.APIVersion,
		Listeners: []sdk.ListenerSpec{{Name: "tcp", Network: "tcp", Address: ":0"}, {Name: "udp", Network: "udp", Address: ":0"}},
		Config:    sdk.Schema{{Name: "fail", Type: sdk.Bool}, {Name: "ttl", Type: sdk.Duration}},
	}
}

func (outPlugin) Serve(ctx context.Context, env *sdk.Env) error {
	if env.Config.Bool("fail", false) {
		return errors.New("configured to fail")
	}
	ln, pc := env.Listeners["tcp"], env.PacketConns["udp"]
	stop := context.AfterFunc(ctx, func() { ln.Close(); pc.Close() })
	defer stop()
	go func() { // UDP: echo
		buf := make([]byte, 64)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(buf[:n], addr)
		}
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return ctx.Err()
		}
		go func() {
			defer conn.Close()
			sc := bufio.NewScanner(conn)
			for sc.Scan() {
				c, err := env.Seats.Checkout(ctx, sdk.CheckoutRequest{Feature: strings.TrimPrefix(sc.Text(), "OUT ")})
				switch {
				case err != nil:
					fmt.Fprintln(conn, "NO", err)
				case c.Outcome == sdk.Granted:
					fmt.Fprintln(conn, "OK", c.Grant.Lease, env.Config.Duration("ttl", 0))
				default:
					fmt.Fprintln(conn, "NO", c.Denial.Reason)
				}
			}
		}()
	}
}

// exits records the plugin's requests to exit its process.
type exits struct {
	mu    sync.Mutex
	codes []int
}

func (e *exits) exit(code int, _ string) { e.mu.Lock(); e.codes = append(e.codes, code); e.mu.Unlock() }
func (e *exits) last() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.codes) == 0 {
		return -1
	}
	return e.codes[len(e.codes)-1]
}

// sockets are the sockets a test hands the plugin, as a host would.
type sockets struct {
	ln    net.Listener
	pc    net.PacketConn
	files []*os.File // by fd index
}

func newSockets(t *testing.T) *sockets {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tf, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	uf, err := pc.(*net.UDPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close(); pc.Close(); tf.Close(); uf.Close() })
	return &sockets{ln: ln, pc: pc, files: []*os.File{tf, uf}}
}

// startPlugin serves outPlugin in-process over go-plugin's gRPC transport
// and broker, with socks as its inherited sockets.
func startPlugin(t *testing.T, socks *sockets) (*plugin.GRPCClient, *sdk.Remote, *exits) {
	t.Helper()
	ex := &exits{}
	open := func(index uint32, name string) (*os.File, error) {
		if int(index) >= len(socks.files) {
			return nil, fmt.Errorf("no listener %d %q", index, name)
		}
		fd, err := syscall.Dup(int(socks.files[index].Fd())) // the plugin closes what it is given
		if err != nil {
			return nil, err
		}
		return os.NewFile(uintptr(fd), name), nil
	}
	client, _ := plugin.TestPluginGRPCConn(t, false, plugin.PluginSet{sdk.PluginName: sdk.NewTestGRPCPlugin(outPlugin{}, open, ex.exit)})
	raw, err := client.Dispense(sdk.PluginName)
	if err != nil {
		t.Fatal(err)
	}
	return client, raw.(*sdk.Remote), ex
}

func configuration(socks *sockets, seats sdk.Seats, cfg map[string]any) sdk.Configuration {
	return sdk.Configuration{
		Name: "out1", Config: sdk.NewConfig(cfg), Seats: seats, DataDir: os.TempDir(),
		Listeners: []sdk.InheritedListener{
			{Name: "tcp", Network: "tcp", Address: socks.ln.Addr().String(), FDIndex: 0},
			{Name: "udp", Network: "udp", Address: socks.pc.LocalAddr().String(), FDIndex: 1},
		},
	}
}

func TestRemoteLifecycle(t *testing.T) {
	socks := newSockets(t)
	client, remote, ex := startPlugin(t, socks)
	defer client.Close()
	ctx := context.Background()

	info, err := remote.Info(ctx)
	if err != nil || info.Name != "out" || info.APIVersion != sdk.APIVersion || info.Config[1].Type != sdk.Duration {
		t.Fatalf("Info: %+v, %v", info, err)
	}
	seats := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1})
	if err := remote.Configure(ctx, configuration(socks, seats, map[string]any{"ttl": 90 * time.Second})); err != nil {
		t.Fatal(err)
	}
	if err := remote.Configure(ctx, configuration(socks, seats, nil)); err == nil {
		t.Fatal("a second Configure succeeded")
	}

	u, err := net.Dial("udp", socks.pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	_ = u.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 8)
	if _, err := u.Write([]byte("echo")); err != nil {
		t.Fatal(err)
	}
	if n, err := u.Read(buf); err != nil || string(buf[:n]) != "echo" {
		t.Fatalf("udp through the inherited socket: %q, %v", buf[:n], err)
	}

	conn, err := net.Dial("tcp", socks.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	for _, want := range []string{"OK ", "NO no-seats"} {
		fmt.Fprintln(conn, "OUT cad")
		line, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, want) {
			t.Fatalf("got %q, %v; want %q...", line, err, want)
		}
		if want == "OK " && !strings.HasSuffix(line, " 1m30s\n") {
			t.Fatalf("duration config value lost: %q", line)
		}
	}

	stopCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := remote.Stop(stopCtx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	// Stop returns once Serve has returned, after the plugin decided
	// whether to exit (and a session ending from here on is expected):
	// nothing left to wait for.
	if code := ex.last(); code != -1 {
		t.Fatalf("a stopped plugin asked to exit with %d", code)
	}
}

func TestServeFailureExits(t *testing.T) {
	socks := newSockets(t)
	client, remote, ex := startPlugin(t, socks)
	defer client.Close()
	if err := remote.Configure(context.Background(), configuration(socks, sdktest.NewSeats(), map[string]any{"fail": true})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the plugin to ask to exit", func() bool { return ex.last() == 1 })
}
