package cli

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm/client"
)

type runCommand struct {
	server, feature, vendor, version, key string
	count                                 int
	wait                                  time.Duration
}

func (*runCommand) synopsis() string { return "hold a seat while a program runs" }
func (*runCommand) usage() string {
	return "run --feature F [options] [--] PROGRAM [ARGS...]"
}
func (*runCommand) help() string {
	return `Checks out a seat of F from the gateway over concurrent-lm, runs PROGRAM
with the terminal's streams, forwards SIGINT, SIGTERM and SIGHUP to it, and
checks the seat in when it exits. The user and host are $USER and the
host's name (the process's account when $USER is unset).

Exit status: PROGRAM's own; 128+N when a signal N killed it; 4 when no
seat was granted; 126 when PROGRAM cannot be executed, 127 when it is not
found (as env and timeout do); 1 when the gateway cannot be reached; 2 for
a wrong command line.`
}
func (*runCommand) optionsEndAtFirstArg() {}

func (c *runCommand) flags(e *env, fs *flag.FlagSet) {
	fs.StringVar(&c.server, "server", envOr(e, "LICENSEGW_SERVER", "localhost:1648"), "gateway `address`, or a cluster's nodes comma-separated (a:1648,b:1648,c:1648) (env LICENSEGW_SERVER)")
	fs.StringVar(&c.feature, "feature", "", "`feature` to check out (required)")
	fs.StringVar(&c.vendor, "vendor", "", "`vendor` of the feature")
	fs.StringVar(&c.version, "version", "", "minimum `version`")
	fs.IntVar(&c.count, "count", 1, "seats to take")
	fs.DurationVar(&c.wait, "wait", 0, "queue up to this `long` when all seats are taken (e.g. 5m)")
	fs.StringVar(&c.key, "key", "", "pin the gateway's public `key` (base64url, as HELLO shows it)")
}

func (c *runCommand) run(ctx context.Context, e *env, args []string) int {
	if c.feature == "" {
		fmt.Fprintln(e.stderr, "licensegw run: --feature is required")
		return exitUsage
	}
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "licensegw run: which program?")
		return exitUsage
	}
	// A program that cannot run needs no seat.
	if _, err := exec.LookPath(args[0]); err != nil {
		fmt.Fprintf(e.stderr, "licensegw: %v\n", err)
		return startStatus(err)
	}
	opts := client.Options{Name: "licensegw-run"}
	if c.key != "" {
		pk, err := base64.RawURLEncoding.DecodeString(c.key)
		if err != nil || len(pk) != ed25519.PublicKeySize {
			return fail(e, "--key is not a base64url Ed25519 public key")
		}
		opts.PublicKey = pk
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	cl, err := client.Dial(ctx, c.server, opts)
	if err != nil {
		return fail(e, "cannot reach the licence gateway at %s: %v", c.server, err)
	}
	defer cl.Close()
	lease, err := cl.Checkout(ctx, client.CheckoutOptions{
		Feature: c.feature, Vendor: c.vendor, Version: c.version, Count: c.count, Wait: c.wait, PID: os.Getpid(),
	})
	var denied *client.DeniedError
	switch {
	case errors.As(err, &denied):
		fmt.Fprintf(e.stderr, "licensegw: no licence for %s: %s\n", c.feature, denialText(denied))
		return exitDenied
	case err != nil:
		return fail(e, "checkout of %s failed: %v", c.feature, err)
	}
	// From here on signals go to the program. Subscribing before the
	// checkout's own subscription ends leaves no moment in which a SIGTERM
	// would kill run and orphan the program with the seat still held;
	// signals that come before the program starts are forwarded to it
	// once it runs.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	stop()

	code := runProgram(e, lease, args, sigs)
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := lease.Checkin(cctx); err != nil {
		fmt.Fprintf(e.stderr, "licensegw: checkin of %s: %v\n", lease.ID, err)
	}
	return code
}

// startStatus is run's status when PROGRAM cannot be started: 127 when it
// is not there, 126 when it is but cannot be executed, as env(1) does.
func startStatus(err error) int {
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return exitNotFound
	}
	return exitCannotRun
}

// runProgram runs argv with the terminal's streams, forwards the signals
// arriving on sigs to it, and returns its exit status.
func runProgram(e *env, lease *client.Lease, argv []string, sigs <-chan os.Signal) int {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, e.stdout, e.stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(e.stderr, "licensegw: start %s: %v\n", argv[0], err)
		return startStatus(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	lost := lease.Done()
	for {
		select {
		case s := <-sigs:
			_ = cmd.Process.Signal(s)
		case <-lost:
			lost = nil
			fmt.Fprintf(e.stderr, "licensegw: the seat for %s was lost: %v\n", lease.Feature, lease.Err())
		case err := <-done:
			var ee *exec.ExitError
			switch {
			case err == nil:
				return exitOK
			case errors.As(err, &ee):
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					return 128 + int(ws.Signal())
				}
				return ee.ExitCode()
			default:
				return fail(e, "%s: %v", argv[0], err)
			}
		}
	}
}

func denialText(d *client.DeniedError) string {
	s := d.Reason
	if d.Message != "" {
		s += " (" + d.Message + ")"
	}
	if d.Seats > 0 {
		s += fmt.Sprintf(", %d of %d seats in use", d.InUse, d.Seats)
	}
	return s
}

func envOr(e *env, name, def string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return def
}
