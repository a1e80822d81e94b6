package cli

import (
	"context"
	"flag"
	"io"
	"strings"

	"github.com/licensegw/licensegw/plugins/flexlm/lmutil"
	"github.com/licensegw/licensegw/plugins/sentinel/lsmon"
)

// lmutilCommand is FlexLM's lmutil with its own flags (lmremove -h is
// not help there).
type lmutilCommand struct{}

func (*lmutilCommand) synopsis() string {
	return "FlexLM-compatible lmutil (lmstat, lmremove, lmreread, ...)"
}
func (*lmutilCommand) usage() string             { return "lmutil COMMAND [options]" }
func (*lmutilCommand) flags(*env, *flag.FlagSet) {}
func (*lmutilCommand) takesRawArgs()             {}
func (*lmutilCommand) help() string {
	var b strings.Builder
	lmutil.Usage(&b)
	return b.String()
}

func (*lmutilCommand) run(ctx context.Context, e *env, args []string) int {
	return lmutil.Run(ctx, args, e.stdout, e.stderr, lmutil.Options{Getenv: e.getenv})
}

// lsmonCommand is the Sentinel-style lsmon with its own flags.
type lsmonCommand struct{}

func (*lsmonCommand) synopsis() string          { return "Sentinel-style monitor of a sentinel plugin" }
func (*lsmonCommand) usage() string             { return "lsmon [options] [HOST[:PORT]]" }
func (*lsmonCommand) flags(*env, *flag.FlagSet) {}
func (*lsmonCommand) takesRawArgs()             {}
func (*lsmonCommand) help() string {
	var b strings.Builder
	lsmon.Main([]string{"-h"}, &b, io.Discard)
	return b.String()
}

func (*lsmonCommand) run(_ context.Context, e *env, args []string) int {
	return lsmon.Main(args, e.stdout, e.stderr)
}
