package lmutil

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/licensegw/licensegw/plugins/flexlm"
)

// Verbs are the sub-commands Main knows.
var Verbs = []string{"lmstat", "lmremove", "lmreread", "lmdown", "lmhostid", "lmver"}

// DefaultTimeout bounds each connection attempt and request.
const DefaultTimeout = 10 * time.Second

// Options are the parts of the environment Run takes from its caller.
type Options struct {
	Now     func() time.Time // the clock of the "status on" line; nil: time.Now
	Timeout time.Duration    // per server; 0: DefaultTimeout
	Getenv  func(string) string
	// Location is the time zone of the header when no server says its own;
	// nil: time.Local.
	Location *time.Location
}

// Main runs `lmutil VERB [flags...]` with args (without the program name)
// and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	return Run(context.Background(), args, stdout, stderr, Options{})
}

// Run is Main with a context and Options.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, opts Options) int {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if len(args) == 0 {
		Usage(stderr)
		return 2
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		Usage(stdout)
		return 0
	}
	verb, rest := args[0], args[1:]
	r := &runner{ctx: ctx, out: stdout, err: stderr, opts: opts}
	switch verb {
	case "lmstat":
		return r.lmstat(rest)
	case "lmremove":
		return r.lmremove(rest)
	case "lmreread":
		return r.lmreread(rest)
	case "lmdown":
		return r.lmdown(rest)
	case "lmhostid":
		return r.lmhostid(rest)
	case "lmver":
		return r.lmver(rest)
	}
	fmt.Fprintf(stderr, "lmutil: unknown command %q\n", verb)
	Usage(stderr)
	return 2
}

// IsVerb reports whether name is one of Verbs, for binaries installed under
// a verb's name (a link named lmstat).
func IsVerb(name string) bool { return slices.Contains(Verbs, name) }

// Usage prints lmutil's commands and their flags.
func Usage(w io.Writer) {
	fmt.Fprintf(w, `usage: lmutil COMMAND [options]

  lmstat   [-c port@host|license_file] [-a] [-f feature] [-i] [-S vendor] [-v]
  lmremove [-c ...] feature user host display
  lmremove [-c ...] -h feature host port handle
  lmreread [-c ...]
  lmdown   [-c ...] [-q] [-force]
  lmhostid [-hostname]
  lmver

-c takes port@host, @host, a comma-separated list of those, or a licence
file whose SERVER lines name the servers (default: $LM_LICENSE_FILE, else
27000@localhost).
`)
}

// toolLine is the first line of lmstat's output, after "lmutil - ".
func toolLine() string {
	return "licensegw lmutil, a FlexLM-compatible licence status tool, v" + flexlm.Version
}

// arch names the platform as FlexLM's platform names do.
func arch() string {
	switch runtime.GOOS + "/" + runtime.GOARCH {
	case "linux/amd64":
		return "x64_lsb"
	case "linux/arm64":
		return "a64_lsb"
	case "windows/amd64":
		return "x64_n6"
	case "darwin/amd64", "darwin/arm64":
		return "x64_mac"
	}
	return runtime.GOARCH + "_" + runtime.GOOS
}

type runner struct {
	ctx  context.Context
	out  io.Writer
	err  io.Writer
	opts Options
}

func (r *runner) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(r.err)
	return fs
}

// server spec default: $LM_LICENSE_FILE, else 27000@localhost.
func (r *runner) defaultSpec() string {
	if v := r.opts.Getenv("LM_LICENSE_FILE"); v != "" {
		return v
	}
	return "27000@localhost"
}
