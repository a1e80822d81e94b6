package cli

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/licensegw/licensegw/plugins/concurrentlm/client"
	"github.com/licensegw/licensegw/plugins/concurrentlm/loadgen"
)

// exitDenied is run's status when no seat was granted.
const exitDenied = 4

// runRun holds a seat while a program runs: `licensegw run --server
// HOST:1648 --feature F [--wait 5m] -- PROGRAM ARGS...`.
func runRun(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "run", "--server HOST:1648 --feature F [--wait 5m] [--count N] -- PROGRAM [ARGS...]")
	server := fs.String("server", envOr(e, "LICENSEGW_SERVER", "localhost:1648"), "gateway `address` (env LICENSEGW_SERVER)")
	feature := fs.String("feature", "", "`feature` to check out (required)")
	vendor := fs.String("vendor", "", "`vendor` of the feature")
	ver := fs.String("version", "", "minimum `version`")
	count := fs.Int("count", 1, "seats to take")
	wait := fs.Duration("wait", 0, "queue up to this `long` when all seats are taken (e.g. 5m)")
	key := fs.String("key", "", "pin the gateway's public `key` (base64url, as HELLO shows it)")
	if st, ok := parse(fs, args); !ok {
		return st
	}
	if *feature == "" || fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	opts := client.Options{Name: "licensegw-run"}
	if *key != "" {
		pk, err := base64.RawURLEncoding.DecodeString(*key)
		if err != nil || len(pk) != ed25519.PublicKeySize {
			return fail(e, "--key is not a base64url Ed25519 public key")
		}
		opts.PublicKey = pk
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := client.Dial(ctx, *server, opts)
	if err != nil {
		return fail(e, "cannot reach the licence gateway at %s: %v", *server, err)
	}
	defer c.Close()
	lease, err := c.Checkout(ctx, client.CheckoutOptions{
		Feature: *feature, Vendor: *vendor, Version: *ver, Count: *count, Wait: *wait, PID: os.Getpid(),
	})
	var denied *client.DeniedError
	switch {
	case errors.As(err, &denied):
		fmt.Fprintf(e.stderr, "licensegw: no licence for %s: %s\n", *feature, denialText(denied))
		return exitDenied
	case err != nil:
		return fail(e, "checkout of %s failed: %v", *feature, err)
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

	code := runProgram(e, lease, fs.Args(), sigs)
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := lease.Checkin(cctx); err != nil {
		fmt.Fprintf(e.stderr, "licensegw: checkin of %s: %v\n", lease.ID, err)
	}
	return code
}

// runProgram runs argv with the terminal's streams, forwards the signals
// arriving on sigs to it, and returns its exit status.
func runProgram(e *env, lease *client.Lease, argv []string, sigs <-chan os.Signal) int {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, e.stdout, e.stderr
	if err := cmd.Start(); err != nil {
		return fail(e, "start %s: %v", argv[0], err)
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

// runBench is the load generator: CHECKOUT -> HEARTBEAT -> CHECKIN cycles
// against a running gateway, beside a raw TCP echo baseline.
func runBench(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "bench", "[--server HOST:1648] [--clients 64] [--duration 10s] [--feature docviewer]")
	server := fs.String("server", envOr(e, "LICENSEGW_SERVER", "localhost:1648"), "gateway `address`")
	clients := fs.Int("clients", 64, "concurrent `clients`")
	duration := fs.Duration("duration", 10*time.Second, "how `long` each run lasts")
	feature := fs.String("feature", "docviewer", "`feature` to cycle (needs as many free seats as clients)")
	noEcho := fs.Bool("no-echo", false, "skip the echo baseline")
	if st, ok := parse(fs, args); !ok {
		return st
	}
	o := loadgen.Options{Addr: *server, Clients: *clients, Duration: *duration, Feature: *feature}
	if *noEcho {
		r, err := loadgen.Run(ctx, o)
		if err != nil {
			return fail(e, "%v", err)
		}
		fmt.Fprintln(e.stdout, r)
		return exitOK
	}
	c, err := loadgen.Compare(ctx, o)
	if err != nil {
		return fail(e, "%v", err)
	}
	fmt.Fprintln(e.stdout, c)
	return exitOK
}
