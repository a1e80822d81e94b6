package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/gateway/node"
	"github.com/licensegw/licensegw/internal/version"
)

func runServe(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "serve", "[-config FILE]")
	path := fs.String("config", "config.hcl", "configuration `file`")
	if st, ok := parse(fs, args); !ok {
		return st
	}
	if fs.NArg() == 1 {
		*path = fs.Arg(0)
	}
	log := logger(e, "info")
	log.Info("starting", "version", version.String(), "config", *path)
	if addr := e.getenv("LICENSEGW_PPROF"); addr != "" {
		servePprof(addr, log)
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := node.Start(ctx, *path, log)
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

func runValidate(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "validate", "FILE")
	if st, ok := parse(fs, args); !ok {
		return st
	}
	path := "config.hcl"
	if fs.NArg() > 0 {
		path = fs.Arg(0)
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

func runVersion(_ context.Context, e *env, args []string) int {
	fs := newFlags(e, "version", "")
	if st, ok := parse(fs, args); !ok {
		return st
	}
	fmt.Fprintln(e.stdout, version.String())
	return exitOK
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
