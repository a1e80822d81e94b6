package e2etest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Result is how a command ended.
type Result struct {
	Code   int // exit status
	Stdout string
	Stderr string
}

// Run runs the executable bin with args and env (added to the test's own
// environment) to its end; the test fails only when it cannot be run.
func Run(ctx context.Context, t testing.TB, bin string, args []string, env ...string) Result {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		r.Code = ee.ExitCode()
	default:
		t.Fatalf("run %s %s: %v\nstdout:\n%s\nstderr:\n%s", bin, strings.Join(args, " "), err, r.Stdout, r.Stderr)
	}
	return r
}

// CLI runs the licensegw command against this gateway's admin API. It
// names the gateway's configuration (LICENSEGW_CONFIG), from which the CLI
// finds the admin token as it does when run beside the gateway.
func (g *Gateway) CLI(ctx context.Context, args ...string) Result {
	g.t.Helper()
	return Run(ctx, g.t, g.opts.Bins.Path("licensegw"), args, "LICENSEGW_ADDR="+g.AdminAddr, "LICENSEGW_CONFIG="+g.ConfigPath)
}

// Eventually polls cond every 50 ms until it returns nil, and fails the
// test with cond's last error after timeout.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() error) {
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
