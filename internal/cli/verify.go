package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/signing"
)

type eventsVerifyCommand struct {
	nats                natsFlags
	stream, prefix, key string
	from                uint64
	offline             bool
	timeout             time.Duration
}

func (*eventsVerifyCommand) synopsis() string { return "check the journal's hash chain and seals" }
func (*eventsVerifyCommand) usage() string    { return "events verify [options]" }
func (*eventsVerifyCommand) help() string {
	return `Walks the event stream in order and checks it as the gateway does at
start: the read rule, every event's prev (the SHA-256 of the event before
it) and every seal's head, count and Ed25519 signature. It prints
"verified N events, last seal at ..., M unsealed", or the first break with
its stream sequence.

--key is the gateway's public key (base64url, as HELLO's key= shows it) or
a file holding it or the signing key itself (data_dir/signing.key); after
a rotation, give the earlier keys too, comma-separated. Run beside the
gateway, the signing key its configuration (--config) names, and the
earlier ones kept as signing.key.prev*, are used when readable. Without a key, seals are checked for everything but
their signature.

It reads the stream over NATS with the audit credentials (see --creds).
With --offline it opens the store of the stopped gateway --config
describes instead (or its nats { url }), e.g. after the gateway refused to
start.

Exit status: 0 the chain holds, 1 it is broken (or the stream could not be
read).`
}

func (c *eventsVerifyCommand) flags(e *env, fs *flag.FlagSet) {
	c.nats.register(e, fs)
	fs.StringVar(&c.stream, "stream", events.DefaultStream, "the journal's stream `name`")
	fs.StringVar(&c.prefix, "prefix", events.DefaultPrefix, "subject `prefix`")
	fs.StringVar(&c.key, "key", "", "the gateway's public `key`, or a file holding it or the signing key")
	fs.Uint64Var(&c.from, "from", 0, "start at stream sequence `seq` (its prev is taken as given)")
	fs.BoolVar(&c.offline, "offline", false, "read the store of the stopped gateway --config describes")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Minute, "give up after this `duration`")
}

func (c *eventsVerifyCommand) run(ctx context.Context, e *env, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(e.stderr, "licensegw events verify: unexpected argument %q\n", args[0])
		return exitUsage
	}
	keys, err := c.publicKeys()
	if err != nil {
		return fail(e, "%v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	s := journal.Stream{Name: c.stream, Prefix: c.prefix}
	if c.offline {
		cfg, code := loadConfig(e, c.nats.config)
		if cfg == nil {
			return code
		}
		nc, stop, err := journalConn(ctx, cfg, "licensegw events verify")
		if err != nil {
			return fail(e, "%v", err)
		}
		defer stop()
		s = journal.Stream{Conn: nc, Name: cfg.NATS.Stream, Prefix: cfg.NATS.Prefix}
	} else {
		nc, err := c.nats.connect("licensegw events verify")
		if err != nil {
			return fail(e, "%v", err)
		}
		defer nc.Close()
		s.Conn = nc
	}
	v, err := journal.Verify(ctx, s, c.from, nil, keys...)
	var brk *journal.BreakError
	if err != nil && !errors.As(err, &brk) {
		return fail(e, "%v", err)
	}
	writeVerification(e.stdout, v, brk)
	if brk != nil {
		return exitFail
	}
	return exitOK
}

// publicKeys are --key's (comma-separated), else the signing key of the
// gateway --config describes and the earlier ones kept beside it
// (signing.key.prev*) when they can be read, else none.
func (c *eventsVerifyCommand) publicKeys() ([]ed25519.PublicKey, error) {
	if c.key != "" {
		var keys []ed25519.PublicKey
		for _, k := range strings.Split(c.key, ",") {
			key, err := readPublicKey(strings.TrimSpace(k))
			if err != nil {
				return nil, err
			}
			keys = append(keys, key)
		}
		return keys, nil
	}
	if _, err := os.Stat(c.nats.config); err != nil {
		return nil, nil
	}
	cfg, diags := config.Load(c.nats.config)
	if diags.HasErrors() {
		return nil, nil
	}
	priv, err := signing.Load(cfg.Signing.KeyFile)
	if err != nil {
		return nil, nil // not beside the gateway: no signature check
	}
	return append([]ed25519.PublicKey{priv.Public().(ed25519.PublicKey)}, signing.Previous(cfg.Signing.KeyFile)...), nil
}

// writeVerification prints what a verification found.
func writeVerification(w io.Writer, v *journal.Verifier, brk *journal.BreakError) {
	if brk != nil {
		fmt.Fprintf(w, "BROKEN at stream sequence %d: %s\n", brk.Seq, brk.Reason)
		fmt.Fprintf(w, "verified %d events before it (sequences %d-%d)\n", v.Counted, v.First, max(brk.Seq, v.First+1)-1)
		return
	}
	seal := "no seal"
	if s := v.LastSeal; s != nil {
		seal = fmt.Sprintf("last seal at sequence %d (%s, %d events since the stream began)", s.Seq, s.Time.UTC().Format(events.TimeLayout), s.Count)
	}
	fmt.Fprintf(w, "verified %d events, %s, %d unsealed\n", v.Counted, seal, v.Unsealed)
	var notes []string
	if v.Counted > 0 {
		notes = append(notes, fmt.Sprintf("stream sequences %d-%d", v.First, v.Last))
	}
	if !v.Signed && v.LastSeal != nil {
		notes = append(notes, "seals' signatures not checked (no --key)")
	}
	if v.Unchained > 0 {
		notes = append(notes, fmt.Sprintf("%d events written before the hash chain carry no prev and are not verifiable", v.Unchained))
	}
	if v.Ignored > 0 {
		notes = append(notes, fmt.Sprintf("%d stray appends of deposed writers ignored", v.Ignored))
	}
	if v.First > 1 {
		notes = append(notes, fmt.Sprintf("the walk began at sequence %d: its first event's prev was taken as given", v.First))
	}
	for _, n := range notes {
		fmt.Fprintln(w, "  "+n)
	}
}

// readPublicKey takes a public key as text, or a file holding the text or
// the gateway's signing key.
func readPublicKey(s string) (ed25519.PublicKey, error) {
	if key, err := journal.ParsePublicKey(s); err == nil {
		return key, nil
	}
	b, err := os.ReadFile(s)
	if err != nil {
		return nil, fmt.Errorf("--key %q is neither a base64url public key nor a readable file", s)
	}
	if priv, err := signing.Load(s); err == nil {
		return priv.Public().(ed25519.PublicKey), nil
	}
	return journal.ParsePublicKey(strings.TrimSpace(string(b)))
}
