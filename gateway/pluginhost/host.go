package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/licensegw/licensegw/sdk"
)

// Default restart backoff.
const (
	DefaultBackoffMin = 250 * time.Millisecond
	DefaultBackoffMax = 30 * time.Second
)

// Spec is one plugin instance to run.
type Spec struct {
	Name   string   // the instance name (the plugin block's label); unique
	Path   string   // the plugin binary
	Args   []string // its arguments
	SHA256 string   // hex SHA-256 of the binary; "" skips the check
	// Listen overrides Info.Listeners addresses by listener name.
	Listen map[string]string
	Config sdk.Config // the decoded config { } block
	Info   sdk.Info   // what Describe returned
	// Dir is the plugin process's working directory, so that relative
	// paths in its config block mean what they mean in the gateway's
	// configuration (the gateway passes its configuration file's
	// directory); "" inherits the gateway's.
	Dir string
	// Allow and StatusAllow are the plugin block's network access lists,
	// applied by the plugin's SDK (sdk.Access); empty admits everyone.
	Allow, StatusAllow []string
	// GOMAXPROCS, when above 0, is the plugin process's GOMAXPROCS; it
	// wins over the one the gateway's environment passes on. 0 leaves the
	// environment's, else the SDK's default (a quarter of the CPUs).
	GOMAXPROCS int
}

// Options configure a Host.
type Options struct {
	// DataDir holds plugin data directories, DataDir/plugins/<name>.
	DataDir string
	// Seats returns the core's accounting for one plugin instance; it is
	// called once per instance, not per restart.
	Seats func(plugin, protocol string) sdk.Seats
	// Lifecycle, if not nil, is told "started" and "exited" for every
	// plugin process.
	Lifecycle func(ctx context.Context, plugin, what string, info map[string]any)
	// Log is the parent of every plugin's logger (named after the plugin).
	Log hclog.Logger
	// Backoff bounds the delay before restarting a plugin that exited;
	// zero values default to DefaultBackoffMin and DefaultBackoffMax.
	Backoff struct{ Min, Max time.Duration }
}

// The states of a plugin instance.
const (
	StateRunning    = "running"
	StateRestarting = "restarting"
	StateStopped    = "stopped"
)

// PluginStatus is a plugin instance's state.
type PluginStatus struct {
	Name      string
	Protocol  string
	Version   string
	PID       int    // 0 while no process runs
	State     string // StateRunning, StateRestarting or StateStopped
	Restarts  int
	Listeners map[string]string // listener name -> address actually bound
	Since     time.Time         // when State was entered
	LastError string
}

// Host runs and supervises plugin processes.
type Host struct {
	opts Options

	mu        sync.Mutex
	instances []*instance
	started   bool
	cancel    context.CancelFunc // stops supervision
	wg        sync.WaitGroup     // supervisors
}

// New returns a Host; Start runs its plugins.
func New(opts Options) *Host {
	if opts.Log == nil {
		opts.Log = hclog.NewNullLogger()
	}
	if opts.Backoff.Min <= 0 {
		opts.Backoff.Min = DefaultBackoffMin
	}
	if opts.Backoff.Max <= 0 {
		opts.Backoff.Max = DefaultBackoffMax
	}
	opts.Backoff.Max = max(opts.Backoff.Max, opts.Backoff.Min)
	return &Host{opts: opts}
}

// Start binds every plugin's listeners, launches each plugin and configures
// it, then supervises them until Stop. It fails, leaving nothing running,
// if any plugin cannot be started (a checksum mismatch, a port in use, a
// plugin that refuses its configuration). ctx bounds the start only.
func (h *Host) Start(ctx context.Context, specs []Spec) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.started {
		return errors.New("pluginhost: already started")
	}
	if h.opts.Seats == nil {
		return errors.New("pluginhost: Options.Seats is nil")
	}
	names := map[string]bool{}
	for _, s := range specs {
		if err := checkSpec(s); err != nil {
			return err
		}
		if names[s.Name] {
			return fmt.Errorf("plugin %q declared twice", s.Name)
		}
		names[s.Name] = true
		if err := verifyChecksum(s.Path, s.SHA256); err != nil {
			return fmt.Errorf("plugin %q: %w", s.Name, err)
		}
	}

	var insts []*instance
	fail := func(err error) error {
		for _, in := range insts {
			in.shutdown(ctx)
		}
		return err
	}
	for _, s := range specs {
		in, err := h.newInstance(s)
		if err != nil {
			return fail(fmt.Errorf("plugin %q: %w", s.Name, err))
		}
		insts = append(insts, in)
		if err := in.start(ctx); err != nil {
			return fail(fmt.Errorf("plugin %q: %w", s.Name, err))
		}
	}

	superCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	h.instances, h.started, h.cancel = insts, true, cancel
	for _, in := range insts {
		h.wg.Go(func() { in.supervise(superCtx) })
	}
	return nil
}

func checkSpec(s Spec) error {
	switch {
	case s.Name == "":
		return errors.New("plugin with no name")
	case s.Path == "":
		return fmt.Errorf("plugin %q: no path", s.Name)
	}
	if _, err := negotiate(s.Info); err != nil {
		return fmt.Errorf("plugin %q: %w", s.Name, err)
	}
	return nil
}

func (h *Host) newInstance(s Spec) (*instance, error) {
	dataDir := ""
	if h.opts.DataDir != "" {
		dataDir = filepath.Join(h.opts.DataDir, "plugins", s.Name)
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	}
	socks, err := bindAll(s.Info, s.Listen)
	if err != nil {
		return nil, err
	}
	warnExposed(h.opts.Log.Named(s.Name), socks, len(s.Allow) > 0)
	return &instance{
		spec:    s,
		opts:    &h.opts,
		log:     h.opts.Log.Named(s.Name),
		dataDir: dataDir,
		seats:   h.opts.Seats(s.Name, s.Info.Name),
		socks:   socks,
		status: PluginStatus{
			Name: s.Name, Protocol: s.Info.Name, Version: s.Info.Version,
			State: StateStopped, Since: time.Now(), Listeners: listenerAddrs(socks),
		},
	}, nil
}

// Status reports every plugin instance, in Start's order.
func (h *Host) Status() []PluginStatus {
	h.mu.Lock()
	insts := h.instances
	h.mu.Unlock()
	out := make([]PluginStatus, 0, len(insts))
	for _, in := range insts {
		out = append(out, in.snapshot())
	}
	return out
}

// Stop stops every plugin gracefully (Plugin.Stop, which lets Serve close
// its sessions), kills those still running when ctx is done, and closes the
// sockets. It returns the plugins' Serve errors, if any.
func (h *Host) Stop(ctx context.Context) error {
	h.mu.Lock()
	if !h.started {
		h.mu.Unlock()
		return nil
	}
	insts, cancel := h.instances, h.cancel
	h.started = false
	h.mu.Unlock()

	cancel()
	h.wg.Wait() // no supervisor restarts anything from here on
	errs := make([]error, len(insts))
	var wg sync.WaitGroup
	for i, in := range insts {
		wg.Go(func() { errs[i] = in.shutdown(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func listenerAddrs(socks []*socket) map[string]string {
	m := make(map[string]string, len(socks))
	for _, s := range socks {
		m[s.name] = s.addr
	}
	return m
}
