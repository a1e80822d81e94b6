package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/posener/complete"

	"github.com/licensegw/licensegw/plugins/flexlm/flexconv"
	"github.com/licensegw/licensegw/plugins/flexlm/licfile"
	"github.com/licensegw/licensegw/plugins/flexlm/lmutil"
	"github.com/licensegw/licensegw/plugins/flexlm/optfile"
	"github.com/licensegw/licensegw/plugins/sentinel/lsmon"
)

type importFlexlmCommand struct{ options string }

func (*importFlexlmCommand) synopsis() string {
	return "print the HCL equivalent of FlexLM licence and options files"
}
func (*importFlexlmCommand) usage() string { return "import flexlm [options] LICENSE_FILE" }
func (*importFlexlmCommand) help() string {
	return `Prints the licensegw features, groups and limits equivalent to a FlexLM
licence file and, with -options, its options file. What cannot be carried
over is a comment in the HCL and, when it changes behaviour, a warning on
stderr with its file:line:col.`
}
func (c *importFlexlmCommand) flags(_ *env, fs *flag.FlagSet) {
	fs.StringVar(&c.options, "options", "", "FlexLM options `file`")
}
func (*importFlexlmCommand) predictArgs() complete.Predictor { return complete.PredictFiles("*") }

func (c *importFlexlmCommand) run(_ context.Context, e *env, args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(e.stderr, "licensegw import flexlm: one licence file")
		return exitUsage
	}
	licPath := args[0]
	src, err := os.ReadFile(licPath)
	if err != nil {
		return fail(e, "%v", err)
	}
	lic, err := licfile.Parse(licPath, src)
	if err != nil {
		fmt.Fprintln(e.stderr, err)
	}
	var of *optfile.File
	if c.options != "" {
		osrc, err := os.ReadFile(c.options)
		if err != nil {
			return fail(e, "%v", err)
		}
		if of, err = optfile.Parse(c.options, osrc); err != nil {
			fmt.Fprintln(e.stderr, err)
		}
	}
	res, diags := flexconv.Convert(lic, of)
	// Every note is a comment in the HCL; warnings and worse are also
	// worth a line on the terminal.
	for _, d := range diags {
		if d.Severity > flexconv.Info {
			fmt.Fprintln(e.stderr, d)
		}
	}
	if err := flexconv.WriteHCL(e.stdout, res); err != nil {
		return fail(e, "%v", err)
	}
	return exitOK
}

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
