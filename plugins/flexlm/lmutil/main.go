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
	"github.com/licensegw/licensegw/plugins/flexlm/client"
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

-c takes a licence search path: port@host, @host (port 27000), a redundant
triad port@h1,port@h2,port@h3 (one server system; lmstat shows each of its
servers and the status of the first that answers), or a licence file (its
SERVER lines) or directory (its *.lic files); several of those separated by
'`+string(client.ListSeparator)+`' are tried in turn. Default: $VENDOR_LICENSE_FILE (with -S vendor),
then $LM_LICENSE_FILE, else 27000@localhost.
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

// defaultSpec is the search path when -c is not given: the environment's
// ($VENDOR_LICENSE_FILE when a vendor is named, then $LM_LICENSE_FILE),
// else 27000@localhost.
func (r *runner) defaultSpec(vendor string) string {
	if v := client.SearchPathFromEnv(vendor, r.opts.Getenv); v != "" {
		return v
	}
	return fmt.Sprintf("%d@localhost", client.DefaultPort)
}
