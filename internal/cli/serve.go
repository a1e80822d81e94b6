package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/posener/complete"

	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/gateway/node"
	"github.com/licensegw/licensegw/internal/version"
)

type serveCommand struct{ config string }

func (*serveCommand) synopsis() string { return "run the gateway with a configuration file" }
func (*serveCommand) usage() string    { return "serve [options] [FILE]" }
func (*serveCommand) help() string {
	return `Runs the gateway: the seat engine, the admin API, the event journal on
NATS (embedded unless nats { url } is set) and every plugin the
configuration names. FILE (or -config) defaults to config.hcl.

SIGHUP rereads the configuration; SIGINT and SIGTERM stop the gateway.
Every warning about the configuration (and about imported licence files)
is logged at start and at each reload; an invalid configuration exits 3.`
}
func (c *serveCommand) flags(_ *env, fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "config.hcl", "configuration `file`")
}
func (*serveCommand) predictArgs() complete.Predictor { return complete.PredictFiles("*.hcl") }

func (c *serveCommand) run(ctx context.Context, e *env, args []string) int {
	switch len(args) {
	case 0:
	case 1:
		c.config = args[0]
	default:
		fmt.Fprintf(e.stderr, "licensegw serve: one configuration file, not %d\n", len(args))
		return exitUsage
	}
	log := logger(e, "info")
	log.Info("starting", "version", version.String(), "config", c.config)
	if addr := e.getenv("LICENSEGW_PPROF"); addr != "" {
		servePprof(addr, log)
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := node.Start(ctx, c.config, log)
	if err != nil {
		if code, ok := printConfigError(e, err); ok {
			return code
		}
		return fail(e, "%v", err)
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := n.Reload(rctx); err != nil {
				log.Error("reload failed; the running configuration stays", "error", err)
				printConfigError(e, err)
			}
			cancel()
		case <-ctx.Done():
			log.Info("shutting down")
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := n.Shutdown(sctx); err != nil {
				return fail(e, "shutdown: %v", err)
			}
			return exitOK
		}
	}
}

type validateCommand struct{}

func (*validateCommand) synopsis() string { return "check a configuration file and print its errors" }
func (*validateCommand) usage() string    { return "validate [options] [FILE]" }
func (*validateCommand) help() string {
	return `Checks the configuration FILE (default config.hcl) as serve would, including
the licence and options files it imports, without starting anything.
Every error is printed with its file:line:col. Exit status 0 when valid,
3 when not.`
}
func (*validateCommand) flags(*env, *flag.FlagSet)       {}
func (*validateCommand) predictArgs() complete.Predictor { return complete.PredictFiles("*.hcl") }

func (*validateCommand) run(ctx context.Context, e *env, args []string) int {
	path := "config.hcl"
	switch len(args) {
	case 0:
	case 1:
		path = args[0]
	default:
		fmt.Fprintf(e.stderr, "licensegw validate: one configuration file, not %d\n", len(args))
		return exitUsage
	}
	cfg, specs, err := node.LoadConfig(ctx, path, logger(e, "warn"))
	if err != nil {
		if code, ok := printConfigError(e, err); ok {
			return code
		}
		return fail(e, "%v", err)
	}
	fmt.Fprintf(e.stdout, "%s: valid (%d features, %d plugins)\n", path, len(cfg.Features), len(specs))
	return exitOK
}

// printConfigError prints configuration diagnostics with source snippets.
func printConfigError(e *env, err error) (int, bool) {
	var ce *node.ConfigError
	if !errors.As(err, &ce) {
		return 0, false
	}
	if werr := config.WriteDiagnostics(e.stderr, ce.Files, ce.Diags); werr != nil {
		fmt.Fprintln(e.stderr, ce.Diags.Error())
	}
	return exitConfig, true
}

type versionCommand struct{}

func (*versionCommand) synopsis() string { return "print the version" }
func (*versionCommand) usage() string    { return "version" }
func (*versionCommand) help() string {
	return "Prints the version, the commit it was built from and the Go version\n(also licensegw --version or -v)."
}
func (*versionCommand) flags(*env, *flag.FlagSet) {}

func (*versionCommand) run(_ context.Context, e *env, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(e.stderr, "licensegw version: unexpected argument %q\n", args[0])
		return exitUsage
	}
	fmt.Fprintln(e.stdout, version.String())
	return exitOK
}

// logger is the daemon's root logger; LICENSEGW_LOG sets its level.
func logger(e *env, level string) hclog.Logger {
	if l := e.getenv("LICENSEGW_LOG"); l != "" {
		level = l
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:   "licensegw",
		Level:  hclog.LevelFromString(strings.ToLower(level)),
		Output: e.stderr,
	})
}

// servePprof serves net/http/pprof on addr (LICENSEGW_PPROF): an opt-in
// for profiling a running gateway, off by default.
func servePprof(addr string, log hclog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	go func() {
		log.Warn("profiling endpoint enabled", "addr", addr)
		if err := http.ListenAndServe(addr, mux); err != nil {
			log.Error("profiling endpoint", "error", err)
		}
	}()
}
