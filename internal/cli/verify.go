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

	"github.com/nats-io/nats.go"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
	"github.com/licensegw/licensegw/gateway/signing"
)

type eventsVerifyCommand struct {
	url, stream, prefix, key, config string
	from                             uint64
	timeout                          time.Duration
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
a file holding it or the signing key itself (data_dir/signing.key).
Without it, seals are checked for everything but their signature.

With --config FILE, it reads the journal of the gateway FILE configures,
with the signing key FILE names: the embedded server's store directly
(the gateway must be stopped, e.g. after it refused to start), or
nats { url }.

Exit status: 0 the chain holds, 1 it is broken (or the stream could not be
read).`
}

func (c *eventsVerifyCommand) flags(e *env, fs *flag.FlagSet) {
	fs.StringVar(&c.url, "nats", envOr(e, "LICENSEGW_NATS", "nats://127.0.0.1:4222"), "NATS `url` (env LICENSEGW_NATS)")
	fs.StringVar(&c.stream, "stream", events.DefaultStream, "the journal's stream `name`")
	fs.StringVar(&c.prefix, "prefix", events.DefaultPrefix, "subject `prefix`")
	fs.StringVar(&c.key, "key", "", "the gateway's public `key`, or a file holding it or the signing key")
	fs.Uint64Var(&c.from, "from", 0, "start at stream sequence `seq` (its prev is taken as given)")
	fs.StringVar(&c.config, "config", "", "read the journal of the stopped gateway this configuration `file` describes")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Minute, "give up after this `duration`")
}

func (c *eventsVerifyCommand) run(ctx context.Context, e *env, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(e.stderr, "licensegw events verify: unexpected argument %q\n", args[0])
		return exitUsage
	}
	var key ed25519.PublicKey
	if c.key != "" {
		var err error
		if key, err = readPublicKey(c.key); err != nil {
			return fail(e, "%v", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	s := journal.Stream{Name: c.stream, Prefix: c.prefix}
	if c.config != "" {
		cfg, code := loadConfig(e, c.config)
		if cfg == nil {
			return code
		}
		if key == nil {
			priv, err := signing.Load(cfg.Signing.KeyFile)
			if err != nil {
				return fail(e, "%v", err)
			}
			key = priv.Public().(ed25519.PublicKey)
		}
		nc, stop, err := journalConn(ctx, cfg, "licensegw events verify")
		if err != nil {
			return fail(e, "%v", err)
		}
		defer stop()
		s = journal.Stream{Conn: nc, Name: cfg.NATS.Stream, Prefix: cfg.NATS.Prefix}
	} else {
		nc, err := nats.Connect(c.url, nats.Name("licensegw events verify"))
		if err != nil {
			return fail(e, "connect to NATS at %s: %v", c.url, err)
		}
		defer nc.Close()
		s.Conn = nc
	}
	v, err := journal.Verify(ctx, s, c.from, key)
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
