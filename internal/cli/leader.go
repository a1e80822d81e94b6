package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/licensegw/licensegw/gateway/admin"
)

type leaderStepDownCommand struct{ api adminFlags }

func (*leaderStepDownCommand) synopsis() string {
	return "hand the cluster leadership to another node (rolling restarts)"
}
func (*leaderStepDownCommand) usage() string { return "leader step-down [options]" }
func (*leaderStepDownCommand) help() string {
	return `Asks the gateway at --addr, which must lead its cluster, to hand the
leadership over: it stops deciding (clients are answered "unavailable,
retry" and retry on another node), publishes what is queued, moves the
journal stream's raft leadership off its NATS server, and releases the
leader lease; another node takes over at once. The node then starts again
as a standby. Needs a write token.

Prints the term that ended, the node that leads now and how long the
hand-over took. Exits 1 when the node does not lead (the message names the
one that does) or when no other node could take over.`
}
func (c *leaderStepDownCommand) flags(e *env, fs *flag.FlagSet) { c.api.register(e, fs) }

func (c *leaderStepDownCommand) run(ctx context.Context, e *env, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(e.stderr, "licensegw leader step-down: unexpected argument %q\n", args[0])
		return exitUsage
	}
	cl, err := c.api.client()
	if err != nil {
		return fail(e, "%v", err)
	}
	res, err := cl.StepDown(ctx)
	if err != nil {
		return fail(e, "step-down refused: %v", err)
	}
	writeStepDown(e.stdout, res)
	return exitOK
}

// writeStepDown prints what a step-down did.
func writeStepDown(w io.Writer, r *admin.StepDownResult) {
	ms := func(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
	fmt.Fprintf(w, "%s stepped down from term %d; lease released after %v\n", r.Node, r.Term, ms(r.ReleasedMS))
	if r.Next != "" {
		fmt.Fprintf(w, "%s leads, term %d, %v after the request\n", r.Next, r.NextTerm, ms(r.ElectedMS))
	} else {
		fmt.Fprintln(w, "no other node had taken over yet; `licensegw status` shows when one does")
	}
	for _, m := range r.Moved {
		fmt.Fprintf(w, "stream %s: raft leader moved %s -> %s in %v\n", m.Stream, m.From, m.To, ms(m.TookMS))
	}
}
