package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/nats-io/nats.go"

	"github.com/licensegw/licensegw/gateway/admin"
	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/ledger"
	"github.com/licensegw/licensegw/gateway/metrics"
	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/pluginhost"
	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/gateway/signing"
	"github.com/licensegw/licensegw/gateway/token"
	"github.com/licensegw/licensegw/internal/version"
)

// ConfigError is a configuration that does not load: its diagnostics and the
// files they point into, for printing with source snippets.
type ConfigError struct {
	Diags hcl.Diagnostics
	Files map[string]*hcl.File
}

func (e *ConfigError) Error() string { return e.Diags.Error() }

// journalDrain bounds how long Shutdown waits for the journal to publish
// what is queued, so that a stop with NATS down stays within the grace
// period.
const journalDrain = 5 * time.Second

// lostSnapshotWait bounds the final snapshot of a node that lost the
// cluster leadership.
const lostSnapshotWait = time.Second

// Node is one running gateway.
type Node struct {
	cfgPath string
	opts    options
	log     hclog.Logger
	started time.Time

	cfgMu sync.Mutex
	cfg   *config.Config

	ns      *natsd.Server // nil when using an external NATS
	dial    func(...nats.Option) (*nats.Conn, error)
	journal *journal.Journal
	ledger  *ledger.Ledger
	plugins *pluginhost.Host
	admin   *admin.Server
	metrics *metrics.Metrics

	expiryMu   sync.Mutex
	announced  map[seats.PoolKey]time.Time // expiring pools announced, and when
	expiryKick chan struct{}
	expiryDone chan struct{} // closed by Shutdown
	expiryWG   sync.WaitGroup

	auth *admin.Auth // nil when the admin API is off

	lead *leadership // nil for a single node (cluster.go)
	// leadShared is lead for the goroutines started before campaign sets
	// it (the forwarder's term watch).
	leadShared atomic.Pointer[leadership]
	member     *member       // nil for a single node (forward.go)
	done       chan struct{} // closed by fail
	doneOnce   sync.Once
	doneErr    error
}

// LoadConfig loads and fully checks a configuration, including each plugin's
// own block against the schema the plugin declares and the plugin's own
// checks, and merges in the policy plugins import from vendor files (which
// runs each plugin once to ask). It is what `licensegw validate` runs.
func LoadConfig(ctx context.Context, path string, log hclog.Logger, opts ...Option) (*config.Config, []pluginhost.Spec, error) {
	return loadConfig(ctx, path, log, newOptions(opts))
}

func loadConfig(ctx context.Context, path string, log hclog.Logger, o options) (*config.Config, []pluginhost.Spec, error) {
	cfg, diags := config.Load(path)
	if diags.HasErrors() {
		return nil, nil, &ConfigError{Diags: diags, Files: filesOf(cfg)}
	}
	l := &loader{cfg: cfg, log: log, opts: o}
	defer l.close()
	plugins, imported := l.plugins(ctx)
	imported = append(imported, l.imports(ctx, plugins)...)
	if !l.diags.HasErrors() {
		l.diags = append(l.diags, cfg.ApplyImports(imported)...)
	}
	if l.diags.HasErrors() {
		return nil, nil, &ConfigError{Diags: append(slices.Clone(cfg.Warnings), l.diags...), Files: cfg.Files()}
	}
	// The plugins' warnings about their blocks and the files they import.
	cfg.Warnings = append(cfg.Warnings, l.diags...)
	var specs []pluginhost.Spec
	for _, p := range plugins {
		specs = append(specs, pluginhost.Spec{
			Name: p.plugin.Name, Path: p.plugin.Path, Args: p.plugin.Args, SHA256: p.plugin.SHA256,
			Listen: p.plugin.Listen, Allow: p.plugin.Allow, StatusAllow: p.plugin.StatusAllow,
			GOMAXPROCS: p.plugin.GOMAXPROCS, Config: p.config, Info: p.probe.Info(), Dir: filepath.Dir(cfg.File),
		})
	}
	return cfg, specs, nil
}

// logWarnings logs each of the configuration's warnings with its
// file:line:col, so that nothing it does not honour goes unsaid.
func logWarnings(log hclog.Logger, cfg *config.Config) {
	for _, d := range cfg.Warnings {
		at := ""
		if d.Subject != nil {
			at = fmt.Sprintf("%s:%d:%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		log.Warn("configuration warning", "at", at, "warning", d.Summary, "detail", d.Detail)
	}
}

func filesOf(cfg *config.Config) map[string]*hcl.File {
	if cfg == nil {
		return nil
	}
	return cfg.Files()
}

// Start loads the configuration at path and starts every part of the node.
func Start(ctx context.Context, path string, log hclog.Logger, opts ...Option) (*Node, error) {
	o := newOptions(opts)
	cfg, specs, err := loadConfig(ctx, path, log, o)
	if err != nil {
		return nil, err
	}
	logWarnings(log, cfg)
	n := &Node{cfgPath: path, opts: o, cfg: cfg, log: log, started: time.Now(),
		announced: map[seats.PoolKey]time.Time{}, expiryKick: make(chan struct{}, 1), expiryDone: make(chan struct{}),
		done: make(chan struct{})}
	started := false
	defer func() {
		if !started { // take down whatever did start
			_ = n.Shutdown(context.Background())
		}
	}()
	if err := os.MkdirAll(cfg.Gateway.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	dial, err := n.startNATS(ctx)
	n.dial = dial
	if err != nil {
		return nil, err
	}
	var term uint64 // the election's, in a cluster
	retention := ledger.Retention{MaxAge: cfg.NATS.MaxAge, MaxBytes: cfg.NATS.MaxBytes, MaxMsgs: int64(cfg.NATS.MaxMsgs)}
	if cfg.NATS.Cluster != nil {
		// Every node serves: its plugins run from the start and forward
		// to whichever node leads.
		if m := n.opts.member; m != nil {
			n.adoptMember(m)
		} else if err := n.startMember(ctx, dial, specs); err != nil {
			return nil, err
		}
		if term, err = n.campaign(ctx, dial); err != nil {
			return nil, fmt.Errorf("cluster: %w", err)
		}
	}
	// The signing key seals the journal whether or not grants are signed
	// with it.
	key, err := signing.LoadOrCreate(cfg.Signing.KeyFile)
	if err != nil {
		return nil, err
	}
	if err := n.takeOver(ctx, term, key, retention, specs); err != nil {
		if !n.lostDuringStart(err) {
			return nil, err
		}
		// Lost the lease, or deposed, while taking over: this node
		// ends as one that lost the leadership (its caller starts it
		// again as a standby), not as one that cannot start.
		n.log.Error("lost the cluster leadership while taking over; this node stands by", "term", term, "error", err)
		n.fail(fmt.Errorf("%w: %w", ErrLostLeadership, err))
		started = true
		return n, nil
	}
	if cfg.Admin.Enabled {
		if err := n.startAdmin(); err != nil {
			return nil, err
		}
	}
	n.expiryWG.Go(func() { n.watchExpiry(n.expiryDone) })
	if n.lead != nil {
		go n.watchLeadership()
	}
	log.Info("gateway started", "name", cfg.Gateway.Name, "features", len(cfg.Features), "plugins", len(specs))
	started = true
	return n, nil
}

// takeOver opens the journal and the ledger and starts serving: a single
// node at once, a clustered one once it has been elected with term. A
// clustered node stops taking over as soon as its lease is lost.
func (n *Node) takeOver(ctx context.Context, term uint64, key ed25519.PrivateKey, retention ledger.Retention, specs []pluginhost.Spec) error {
	cfg, log := n.cfg, n.log
	ctx, cancel := n.leaseContext(ctx)
	defer cancel()
	jcfg := journal.Config{
		Dial: n.dial, Gateway: cfg.Gateway.Name, Prefix: cfg.NATS.Prefix, Stream: cfg.NATS.Stream,
		Replicas: cfg.NATS.Replicas, Term: term, Log: log.Named("journal"), LifecycleLimits: retention,
		Signer: key, Trusted: signing.Previous(cfg.Signing.KeyFile),
	}
	if n.lead != nil {
		// Nothing this node queued goes to the stream once its lease
		// is not certainly its own: the next leader may have read the
		// stream's tail already, and a late append would depose it.
		jcfg.MayWrite = n.lead.el.Holds
	}
	// The phases of a takeover, logged at its end: where a slow
	// hand-over's time goes.
	phases := newPhases()
	if err := n.openJournal(ctx, jcfg); err != nil {
		return fmt.Errorf("journal: %w", brokenHint(err))
	}
	phases.mark("journal_opened")
	if n.lead != nil {
		// A new leader fences its term at once, before it replays or
		// answers: the previous leader (frozen, or cut off, and not yet
		// aware that its lease is gone) may still append, and would
		// otherwise depose this one at its first append.
		bctx, cancel := context.WithTimeout(ctx, beginTimeout)
		err := n.journal.Begin(bctx)
		cancel()
		if err != nil {
			return fmt.Errorf("journal: open term %d: %w", term, err)
		}
		phases.mark("term_begun")
	}
	n.metrics = n.newMetrics()
	store := n.snapshotStore(ctx)
	phases.mark("snapshot_store_opened")
	if n.lead != nil && store == nil && retention.Enabled() {
		// The next leader starts from the store's snapshots: trimming
		// by this node's own could delete events it needs.
		log.Warn("retention is not applied this term: the snapshot store is unavailable")
		retention = ledger.Retention{}
	}
	lopts := ledger.Options{
		Config:    cfg.Engine(),
		Journal:   n.journal,
		DataDir:   cfg.Gateway.DataDir,
		Retention: retention,
		Snapshots: store,
		Reload:    n.Reload,
		Observer:  n.metrics,
		Log:       log.Named("ledger"),
	}
	if cfg.Signing.Enabled {
		lopts.Signer = key
	}
	if n.member != nil {
		lopts.Node, lopts.KeepBound = cfg.Gateway.Name, keepBound
	}
	var err error
	if n.ledger, err = ledger.Open(ctx, lopts); err != nil {
		return brokenHint(err)
	}
	phases.mark("ledger_opened")
	n.lifecycle(ctx, events.GatewaySubject(cfg.NATS.Prefix, "started"), map[string]any{"version": version.Version})
	n.startLeading(ctx, term)

	if n.member != nil {
		if err := n.serveEngine(term); err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
		phases.mark("serving")
		log.Info("took over the cluster leadership", append([]any{"term", term}, phases.fields()...)...)
	} else {
		n.plugins = pluginhost.New(pluginhost.Options{
			DataDir:   cfg.Gateway.DataDir,
			Seats:     n.ledger.Seats,
			Lifecycle: n.pluginLifecycle,
			Log:       log.Named("plugin"),
		})
		if err := n.plugins.Start(ctx, specs); err != nil {
			return fmt.Errorf("plugins: %w", err)
		}
	}
	return nil
}

// brokenHint adds what to do to an error that says the journal's hash
// chain is broken.
func brokenHint(err error) error {
	if !errors.Is(err, journal.ErrBroken) {
		return err
	}
	return fmt.Errorf("%w (nothing from there on was applied; `licensegw events verify --offline --config FILE` shows the break, `licensegw journal repair FILE` truncates the journal to the last valid event)", err)
}

// startNATS starts the embedded server, if configured, and returns how
// the journal connects: in-process to the embedded server, or to the
// configured URL. The journal dials again whenever a connection is closed
// for good, so the gateway's NATS connection never stays down.
func (n *Node) startNATS(ctx context.Context) (func(...nats.Option) (*nats.Conn, error), error) {
	cfg := n.cfg.NATS
	name := nats.Name("licensegw " + n.cfg.Gateway.Name)
	if !cfg.Embedded {
		base := []nats.Option{name, nats.MaxReconnects(-1), nats.RetryOnFailedConnect(false)}
		creds, err := natsCredentials(cfg.Credentials)
		if err != nil {
			return nil, err
		}
		base = append(base, creds...)
		dial := func(opts ...nats.Option) (*nats.Conn, error) {
			nc, err := nats.Connect(cfg.URL, append(base, opts...)...)
			if err != nil {
				return nil, fmt.Errorf("connect to NATS at %s: %w", cfg.URL, err)
			}
			return nc, nil
		}
		return dial, nil
	}
	if ns := n.opts.nats; ns != nil {
		// Kept running across a step-down (WithKept): the cluster
		// keeps its third replica while this node starts again.
		n.ns = ns
		return func(opts ...nats.Option) (*nats.Conn, error) {
			return ns.Connect(append([]nats.Option{name}, opts...)...)
		}, nil
	}
	tlsCfg, err := natsTLS(cfg)
	if err != nil {
		return nil, err
	}
	ns, err := natsd.Start(ctx, natsd.Config{
		Listen:   cfg.Listen,
		StoreDir: filepath.Join(n.cfg.Gateway.DataDir, "jetstream"),
		Name:     n.cfg.Gateway.Name,
		NoListen: cfg.Listen == "",
		Auth:     n.natsAuth(cfg),
		TLS:      tlsCfg,
		Cluster:  natsCluster(cfg.Cluster),
	}, n.log.Named("nats"))
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	n.ns = ns
	n.log.Info("embedded NATS listening", "url", ns.ClientURL(), "tls", tlsCfg != nil, "audit_credentials", cfg.AuditCredentials)
	return func(opts ...nats.Option) (*nats.Conn, error) {
		return ns.Connect(append([]nats.Option{name}, opts...)...)
	}, nil
}

// Shutdown stops the node: plugins first (no new requests), then the admin
// API, the ledger (final snapshot), the journal and NATS.
func (n *Node) Shutdown(ctx context.Context) error {
	var errs []error
	select {
	case <-n.expiryDone:
	default:
		close(n.expiryDone)
	}
	n.expiryWG.Wait()
	if errors.Is(n.Err(), ErrLostLeadership) {
		// A deposed leader hands nothing over: its journal writes
		// nothing more. It only releases its lease, if it still holds
		// it, so that the next leader need not wait for it to expire.
		n.releaseLost(ctx)
	} else if _, err := n.handOver(ctx, handOverStop, ""); err != nil && !errors.Is(err, admin.ErrNotLeader) {
		// A cluster's leader hands over first (stepdown.go): from
		// here on its clients are told to retry, and another node
		// serves them.
		errs = append(errs, err)
	}
	if n.plugins != nil && !(n.lead != nil && n.lead.keepMember.Load()) {
		errs = append(errs, n.plugins.Stop(ctx))
	}
	n.stopMember()
	if n.admin != nil {
		errs = append(errs, n.admin.Shutdown(ctx))
	}
	if n.ledger != nil {
		lctx := ctx
		if errors.Is(n.Err(), ErrLostLeadership) {
			// Its final snapshot is a courtesy (the stream has
			// everything) and the cluster may be unreachable: the
			// node stands by again without waiting long for it.
			var cancel context.CancelFunc
			lctx, cancel = context.WithTimeout(ctx, lostSnapshotWait)
			defer cancel()
		}
		errs = append(errs, n.ledger.Close(lctx))
		if !n.restartsInPlace() {
			n.lifecycle(ctx, events.GatewaySubject(n.cfg.NATS.Prefix, "stopped"), nil)
		}
	}
	if n.journal != nil {
		// Events the journal cannot publish by then are lost to this
		// process, not to the stream: their requests were answered
		// "unavailable".
		jctx, cancel := context.WithTimeout(ctx, journalDrain)
		errs = append(errs, n.journal.Close(jctx))
		cancel()
	}
	n.stopLeading()
	if n.ns != nil && !n.natsDetached() {
		n.ns.Shutdown()
	}
	return errors.Join(errs...)
}

// Reload rereads the configuration file and the vendor files plugins
// import, and applies their features and policies, keeping every lease.
// Plugin blocks are checked again, but take effect at the next start.
func (n *Node) Reload(ctx context.Context) error {
	cfg, _, err := loadConfig(ctx, n.cfgPath, n.log, n.opts)
	if err != nil {
		return err
	}
	logWarnings(n.log, cfg)
	// Tokens declared or revoked take effect now: rotation needs no
	// restart. The admin block's listener and TLS are read at start. A bad
	// token file refuses the whole reload, like a bad configuration.
	var tokens *token.Set
	if n.auth != nil && cfg.Admin.Enabled {
		var err error
		if tokens, _, err = adminTokens(cfg.Admin); err != nil {
			return fmt.Errorf("reload: %w", err)
		}
	}
	if err := n.ledger.Reload(ctx, cfg.Engine()); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	if tokens != nil {
		n.auth.SetTokens(tokens)
	}
	if err := n.reloadNATSAuth(cfg.NATS); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	n.cfgMu.Lock()
	n.cfg.Features, n.cfg.Groups, n.cfg.HostGroups = cfg.Features, cfg.Groups, cfg.HostGroups
	n.cfg.Gateway.ExpiryWarning = cfg.Gateway.ExpiryWarning
	pluginsChanged := !samePlugins(n.cfg.Plugins, cfg.Plugins)
	n.cfgMu.Unlock()
	if pluginsChanged {
		n.log.Warn("plugin blocks changed; they take effect at the next start, not on reload")
	}
	actor := events.Actor(ctx)
	n.lifecycle(ctx, events.GatewaySubject(n.cfg.NATS.Prefix, "reloaded"), map[string]any{"features": len(cfg.Features), "actor": actor})
	n.log.Info("configuration reloaded", "features", len(cfg.Features), "actor", actor)
	n.announceExpiryAgain()
	return nil
}

func (n *Node) pluginLifecycle(ctx context.Context, plugin, what string, info map[string]any) {
	n.lifecycle(ctx, events.PluginSubject(n.cfg.NATS.Prefix, plugin, what), info)
	if what == "exited" && n.member != nil {
		// The leader ends them, whichever node it is.
		exited := time.Now()
		n.member.wg.Go(func() { n.releaseOwnBound(n.member.ctx, plugin, exited) })
		return
	}
	if what == "exited" && !n.handedOver() {
		// The plugin's connections died with it: leases bound to them
		// end now rather than at their TTL.
		if err := n.ledger.ReleaseBound(ctx, plugin); err != nil {
			n.log.Error("release leases bound to the exited plugin's connections", "plugin", plugin, "error", err)
		}
	}
}

// lifecycle publishes a gateway or plugin lifecycle event; failures are
// logged, never fatal: they are not accounting.
func (n *Node) lifecycle(ctx context.Context, subject string, info map[string]any) {
	payload := map[string]any{
		"schema":  events.Schema,
		"time":    time.Now().UTC().Format(events.TimeLayout),
		"gateway": n.cfg.Gateway.Name,
	}
	for k, v := range info {
		payload[k] = v
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := n.publishLifecycle(ctx, subject, payload); err != nil {
		n.log.Warn("lifecycle event not published", "subject", subject, "error", err)
	}
}

// AdminAddr is the admin API's address, or "" when it is disabled.
func (n *Node) AdminAddr() string {
	if n.admin == nil {
		return ""
	}
	return n.admin.Addr()
}

// NATSURL is the embedded NATS server's client URL, or the configured one.
func (n *Node) NATSURL() string {
	if n.ns != nil {
		return n.ns.ClientURL()
	}
	return n.cfg.NATS.URL
}

// samePlugins reports whether two configurations start the same plugins
// the same way (their config blocks aside, which only the plugins decode).
func samePlugins(a, b []config.Plugin) bool {
	return slices.EqualFunc(a, b, func(x, y config.Plugin) bool {
		return x.Name == y.Name && x.Path == y.Path && x.SHA256 == y.SHA256 && x.Enabled == y.Enabled &&
			slices.Equal(x.Args, y.Args) && maps.Equal(x.Listen, y.Listen) &&
			slices.Equal(x.Allow, y.Allow) && slices.Equal(x.StatusAllow, y.StatusAllow) &&
			x.GOMAXPROCS == y.GOMAXPROCS
	})
}
