package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/posener/complete"

	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/node"
	"github.com/licensegw/licensegw/internal/sdnotify"
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
	// The log settings come before everything else the configuration
	// says, so that its warnings and errors are logged as asked.
	level, format := config.DefaultLogLevel, config.DefaultLogFormat
	if cfg, diags := config.Load(c.config); !diags.HasErrors() {
		level, format = cfg.Gateway.LogLevel, cfg.Gateway.LogFormat
	}
	log, err := newLogger(e, level, format)
	if err != nil {
		fmt.Fprintf(e.stderr, "licensegw: %v\n", err)
		return exitConfig
	}
	log.Info("starting", "version", version.String(), "config", c.config)
	tuneGC(e, log)
	if addr := e.getenv("LICENSEGW_PPROF"); addr != "" {
		servePprof(addr, log)
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// SIGHUP is ours from the start: one that comes while the gateway
	// starts is a reload once it runs, not the end of the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var current atomic.Pointer[node.Node] // for the watchdog
	sd := systemdNotifier(e, log)
	notify := func(states ...string) {
		if err := sd.Notify(states...); err != nil {
			log.Warn("systemd notification failed", "error", err)
		}
	}
	var watchdog sync.Once
	startWatchdog := func() {
		interval, ok := sdnotify.WatchdogInterval(e.getenv, os.Getpid())
		if !ok || sd == nil {
			return
		}
		watchdog.Do(func() {
			// The watchdog is fed while the engine answers a status
			// request (a follower's node is not there yet: it serves
			// by forwarding): a wedged gateway stops feeding it and
			// systemd restarts it.
			go func() {
				alive := func(ctx context.Context) error {
					if n := current.Load(); n != nil {
						n.Status(ctx)
					}
					return nil
				}
				if err := sd.RunWatchdog(ctx, interval, alive); err != nil {
					log.Warn("systemd watchdog stopped", "error", err)
				}
			}()
		})
	}
	// A cluster follower serves its ports before it leads (if ever).
	following := node.WithFollowing(func() {
		notify(sdnotify.Ready, "STATUS=following (forwarding to the cluster leader)")
		startWatchdog()
	})
	start := func(opts ...node.Option) (*node.Node, int) {
		n, err := node.Start(ctx, c.config, log, append(opts, node.WithImporters(bundledImporters()), following)...)
		if err != nil {
			if code, ok := printConfigError(e, err); ok {
				return nil, code
			}
			return nil, fail(e, "%v", err)
		}
		return n, exitOK
	}
	n, code := start()
	if n == nil {
		return code
	}
	current.Store(n)
	notify(sdnotify.Ready, "STATUS=serving")
	startWatchdog()
	for {
		select {
		case <-hup:
			notify(sdnotify.ReloadingNow()...)
			rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := n.Reload(events.WithActor(rctx, "signal:SIGHUP")); err != nil {
				log.Error("reload failed; the running configuration stays", "error", err)
				printConfigError(e, err)
			}
			cancel()
			notify(sdnotify.Ready, "STATUS=serving")
		case <-n.Done():
			// A cluster node that stepped down on request, lost its
			// lease or was deposed by the journal's fence starts
			// again in-process as a node that stands by, keeping its
			// NATS server (the cluster keeps its replicas and the
			// raft leaders it holds) and its plugins (their ports
			// and clients); one that lost the leadership tries for it
			// again after a hold-off.
			stepped := errors.Is(n.Err(), node.ErrSteppedDown)
			lost := errors.Is(n.Err(), node.ErrLostLeadership)
			if !stepped && !lost {
				notify(sdnotify.Stopping)
			}
			var kept *node.Kept
			if stepped || lost {
				kept = n.Detach() // NATS server, plugins and forwarder
			}
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_ = n.Shutdown(sctx)
			cancel()
			if !stepped && !lost {
				return fail(e, "%v", n.Err())
			}
			var opts []node.Option
			if stepped {
				log.Info("stepped down from the cluster leadership; starting again as a standby")
				notify("STATUS=standing by after a step-down")
			} else {
				log.Warn("lost the cluster leadership; starting again as a standby", "cause", n.Err(), "hold_off", node.HoldOff)
				notify("STATUS=standing by after losing the cluster leadership")
				opts = append(opts, node.WithHoldOff(node.HoldOff))
			}
			opts = append(opts, node.WithKept(kept))
			if n, code = start(opts...); n == nil {
				sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				kept.Shutdown(sctx)
				cancel()
				if ctx.Err() != nil {
					return exitOK // stopped while standing by
				}
				return code
			}
			current.Store(n)
			notify(sdnotify.Ready, "STATUS=serving")
		case <-ctx.Done():
			notify(sdnotify.Stopping)
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

type validateCommand struct{ asJSON bool }

func (*validateCommand) synopsis() string { return "check a configuration file and print its errors" }
func (*validateCommand) usage() string    { return "validate [options] [FILE]" }
func (*validateCommand) help() string {
	return `Checks the configuration FILE (default config.hcl) as serve would, including
the licence and options files it imports and each plugin's block, without
starting anything. Every error and every warning (what the gateway does
not honour, such as a licence file line it cannot serve) is printed with
its file:line:col. Exit status 0 when valid (warnings or not), 3 when not.

With -json, one JSON object on stdout instead, for tools:
{"file", "valid", "features", "plugins", "errors", "warnings",
 "diagnostics": [{"severity", "summary", "detail", "filename", "line",
 "column", "end_line", "end_column"}]}.`
}
func (c *validateCommand) flags(_ *env, fs *flag.FlagSet) {
	fs.BoolVar(&c.asJSON, "json", false, "print the result as JSON on stdout")
}
func (*validateCommand) predictArgs() complete.Predictor { return complete.PredictFiles("*.hcl") }

func (c *validateCommand) run(ctx context.Context, e *env, args []string) int {
	path := "config.hcl"
	switch len(args) {
	case 0:
	case 1:
		path = args[0]
	default:
		fmt.Fprintf(e.stderr, "licensegw validate: one configuration file, not %d\n", len(args))
		return exitUsage
	}
	log, err := newLogger(e, "warn", config.DefaultLogFormat)
	if err != nil {
		fmt.Fprintf(e.stderr, "licensegw: %v\n", err)
		return exitConfig
	}
	cfg, specs, err := node.LoadConfig(ctx, path, log, node.WithImporters(bundledImporters()))
	var ce *node.ConfigError
	if err != nil && !errors.As(err, &ce) {
		return fail(e, "%v", err)
	}
	res := validation{File: path, Valid: err == nil}
	var files map[string]*hcl.File
	if err == nil {
		res.Features, res.Plugins = len(cfg.Features), len(specs)
		res.diags, files = cfg.Warnings, cfg.Files()
	} else {
		res.diags, files = ce.Diags, ce.Files
	}
	code := exitOK
	if !res.Valid {
		code = exitConfig
	}
	if c.asJSON {
		res.fill()
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return fail(e, "%v", err)
		}
		return code
	}
	if werr := config.WriteDiagnostics(e.stderr, files, res.diags); werr != nil {
		fmt.Fprintln(e.stderr, res.diags.Error())
	}
	if res.Valid {
		fmt.Fprintf(e.stdout, "%s: valid (%d features, %d plugins, %d warnings)\n", path, res.Features, res.Plugins, len(res.diags))
	}
	return code
}

// validation is validate's result, and its -json output.
type validation struct {
	File        string       `json:"file"`
	Valid       bool         `json:"valid"`
	Features    int          `json:"features"`
	Plugins     int          `json:"plugins"`
	Errors      int          `json:"errors"`
	Warnings    int          `json:"warnings"`
	Diagnostics []diagnostic `json:"diagnostics"`

	diags hcl.Diagnostics
}

type diagnostic struct {
	Severity  string `json:"severity"` // "error" or "warning"
	Summary   string `json:"summary"`
	Detail    string `json:"detail,omitempty"`
	Filename  string `json:"filename,omitempty"`
	Line      int    `json:"line,omitempty"`
	Column    int    `json:"column,omitempty"`
	EndLine   int    `json:"end_line,omitempty"`
	EndColumn int    `json:"end_column,omitempty"`
}

func (v *validation) fill() {
	v.Diagnostics = []diagnostic{}
	for _, d := range v.diags {
		jd := diagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
			v.Warnings++
		} else {
			v.Errors++
		}
		if r := d.Subject; r != nil {
			jd.Filename, jd.Line, jd.Column, jd.EndLine, jd.EndColumn = r.Filename, r.Start.Line, r.Start.Column, r.End.Line, r.End.Column
		}
		v.Diagnostics = append(v.Diagnostics, jd)
	}
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

// systemdNotifier is the notifier of $NOTIFY_SOCKET; nil (which sends
// nothing) outside systemd.
func systemdNotifier(e *env, log hclog.Logger) *sdnotify.Notifier {
	sd, err := sdnotify.New(e.getenv)
	switch {
	case errors.Is(err, sdnotify.ErrNoSocket):
		return nil
	case err != nil:
		log.Warn("not notifying systemd", "error", err)
		return nil
	}
	return sd
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
