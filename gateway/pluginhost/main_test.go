package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/sdktest"
)

// fakeHostEnv switches the test binary into a fake gateway: it runs the
// plugin named by the variable under a Host, prints the plugin's pid and
// waits to be killed.
const fakeHostEnv = "PLUGINHOST_TEST_FAKE_HOST"

// minimalPlugin is examples/minimal-plugin, built once for the test binary.
var minimalPlugin string

// runtimeProcs is the Go runtime's default GOMAXPROCS on this machine (its
// CPUs, cgroup limits included), or 0 when the test process was started
// with GOMAXPROCS set and so does not know it.
var runtimeProcs int

func TestMain(m *testing.M) {
	if path := os.Getenv(fakeHostEnv); path != "" {
		os.Exit(fakeHost(path))
	}
	if os.Getenv("GOMAXPROCS") == "" {
		// Before m.Run, which applies -cpu.
		runtimeProcs = runtime.GOMAXPROCS(0)
	}
	dir, err := os.MkdirTemp("", "pluginhost-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	minimalPlugin = filepath.Join(dir, "minimal-plugin")
	build := exec.Command("go", "build", "-o", minimalPlugin, "github.com/licensegw/licensegw/examples/minimal-plugin")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the minimal plugin:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// fakeHost is a gateway reduced to a Host running one plugin.
func fakeHost(path string) int {
	ctx := context.Background()
	info, err := Describe(ctx, path, nil, "", nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	h := New(Options{Seats: func(string, string) sdk.Seats { return sdktest.NewSeats() }})
	spec := Spec{Name: "m", Path: path, Info: info, Listen: map[string]string{"tcp": "127.0.0.1:0"}}
	if err := h.Start(ctx, []Spec{spec}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(h.Status()[0].PID)
	time.Sleep(time.Minute) // until the test kills us
	return 0
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func testLogger(t *testing.T) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "gateway", Output: t.Output(), Level: hclog.Debug})
}
