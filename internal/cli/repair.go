package cli

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"
	"github.com/posener/complete"

	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/ledger"
	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/signing"
)

type journalRepairCommand struct {
	config string
	dryRun bool
}

func (*journalRepairCommand) synopsis() string {
	return "truncate a broken journal to its last valid event"
}
func (*journalRepairCommand) usage() string { return "journal repair [options] [FILE]" }
func (*journalRepairCommand) help() string {
	return `Verifies the whole journal of the gateway configured in FILE (or -config,
LICENSEGW_CONFIG, config.hcl) and, if its hash chain is broken, deletes every message
from the break to the stream's end, printing each one it drops. Snapshots
that include dropped events are set aside, so the next start rebuilds the
accounting without them and continues the chain from the last valid event.

Run it with the gateway stopped: it opens the embedded NATS server's store
itself (or connects to nats { url } with the configured credentials).
--dry-run prints what would be dropped and changes nothing.

Exit status: 0 nothing to repair or repaired, 1 failed, 3 bad configuration.`
}
func (c *journalRepairCommand) flags(e *env, fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", envOr(e, "LICENSEGW_CONFIG", "config.hcl"), "configuration `file` (env LICENSEGW_CONFIG)")
	fs.BoolVar(&c.dryRun, "dry-run", false, "print what would be dropped, drop nothing")
}
func (*journalRepairCommand) predictArgs() complete.Predictor { return complete.PredictFiles("*.hcl") }

func (c *journalRepairCommand) run(ctx context.Context, e *env, args []string) int {
	switch len(args) {
	case 0:
	case 1:
		c.config = args[0]
	default:
		fmt.Fprintf(e.stderr, "licensegw journal repair: one configuration file, not %d\n", len(args))
		return exitUsage
	}
	cfg, code := loadConfig(e, c.config)
	if cfg == nil {
		return code
	}
	key, err := signing.Load(cfg.Signing.KeyFile)
	if err != nil {
		return fail(e, "%v", err)
	}
	nc, stop, err := journalConn(ctx, cfg, "licensegw journal repair")
	if err != nil {
		return fail(e, "%v", err)
	}
	defer stop()
	s := journal.Stream{Conn: nc, Name: cfg.NATS.Stream, Prefix: cfg.NATS.Prefix}
	brk, dropped, err := journal.Repair(ctx, s, c.dryRun, key.Public().(ed25519.PublicKey), signing.Previous(cfg.Signing.KeyFile)...)
	if brk == nil && err == nil {
		fmt.Fprintln(e.stdout, "the journal's chain holds: nothing to repair")
		return exitOK
	}
	if brk != nil {
		fmt.Fprintf(e.stdout, "chain broken at stream sequence %d: %s\n", brk.Seq, brk.Reason)
	}
	verb := "dropped"
	if c.dryRun {
		verb = "would drop"
	}
	for _, d := range dropped {
		fmt.Fprintf(e.stdout, "%s %d %s\n", verb, d.Seq, droppedLine(d.Data))
	}
	if err != nil {
		return fail(e, "%v", err)
	}
	fmt.Fprintf(e.stdout, "%s %d messages (sequences %d-%d); the journal now ends at %d\n",
		verb, len(dropped), brk.Seq, lastSeq(dropped, brk.Seq), brk.Seq-1)
	if c.dryRun {
		return exitOK
	}
	moved, err := ledger.SetAsideSnapshots(cfg.Gateway.DataDir, brk.Seq, firstID(dropped), time.Now())
	for _, m := range moved {
		fmt.Fprintf(e.stdout, "set aside snapshot %s (it includes dropped events)\n", m)
	}
	if err != nil {
		return fail(e, "%v", err)
	}
	return exitOK
}

// journalConn connects to the configured journal with the gateway's own
// rights: the embedded server started on the data directory's store (the
// gateway must be stopped), or nats { url }.
func journalConn(ctx context.Context, cfg *config.Config, client string) (*nats.Conn, func(), error) {
	name := nats.Name(client)
	if !cfg.NATS.Embedded {
		opts := []nats.Option{name}
		if cfg.NATS.Credentials != "" {
			opts = append(opts, nats.UserCredentials(cfg.NATS.Credentials))
		}
		nc, err := nats.Connect(cfg.NATS.URL, opts...)
		if err != nil {
			return nil, nil, fmt.Errorf("connect to NATS at %s: %w", cfg.NATS.URL, err)
		}
		return nc, nc.Close, nil
	}
	if cfg.NATS.Listen != "" {
		if conn, err := net.DialTimeout("tcp", cfg.NATS.Listen, time.Second); err == nil {
			conn.Close()
			return nil, nil, fmt.Errorf("something listens on the embedded NATS address %s: stop the gateway first", cfg.NATS.Listen)
		}
	}
	ns, err := natsd.Start(ctx, natsd.Config{
		StoreDir: filepath.Join(cfg.Gateway.DataDir, "jetstream"),
		Name:     cfg.Gateway.Name,
		NoListen: true,
	}, hclog.NewNullLogger())
	if err != nil {
		return nil, nil, fmt.Errorf("embedded NATS: %w", err)
	}
	nc, err := ns.Connect(name)
	if err != nil {
		ns.Shutdown()
		return nil, nil, err
	}
	return nc, func() { nc.Close(); ns.Shutdown() }, nil
}

// loadConfig loads the configuration at path, or prints its diagnostics
// and returns nil and the exit status.
func loadConfig(e *env, path string) (*config.Config, int) {
	cfg, diags := config.Load(path)
	if diags.HasErrors() {
		if werr := config.WriteDiagnostics(e.stderr, cfg.Files(), diags); werr != nil {
			fmt.Fprintln(e.stderr, diags.Error())
		}
		return nil, exitConfig
	}
	return cfg, exitOK
}

// droppedLine summarises a dropped message: kind, pool, lease, who.
func droppedLine(data []byte) string {
	var ev events.Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return fmt.Sprintf("(undecodable: %q)", truncate(string(data), 120))
	}
	s := fmt.Sprintf("%s %s id=%s", ev.Time.UTC().Format(events.TimeLayout), ev.Kind, ev.ID)
	if ev.Feature != "" {
		s += fmt.Sprintf(" %s/%s", ev.Vendor, ev.Feature)
	}
	for _, kv := range [][2]string{{"lease", ev.Lease}, {"ticket", ev.Ticket}, {"user", ev.User}, {"host", ev.Host}} {
		if kv[1] != "" {
			s += " " + kv[0] + "=" + kv[1]
		}
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func lastSeq(d []journal.Dropped, def uint64) uint64 {
	if len(d) == 0 {
		return def
	}
	return d[len(d)-1].Seq
}

// firstID is the smallest id among the dropped events: a snapshot whose
// last event is at or after it includes dropped events.
func firstID(dropped []journal.Dropped) string {
	id := ""
	for _, d := range dropped {
		var ev events.Event
		if json.Unmarshal(d.Data, &ev) == nil && ev.ID != "" && (id == "" || ev.ID < id) {
			id = ev.ID
		}
	}
	return id
}
