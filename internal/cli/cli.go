package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// Exit statuses.
const (
	exitOK     = 0
	exitFail   = 1 // the command ran and failed
	exitUsage  = 2 // the command line is wrong
	exitConfig = 3 // the configuration is invalid
)

// env is what every command gets: its output streams and the environment.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) int
}

func commands() map[string]command {
	return map[string]command{
		"serve":    {"run the gateway with a configuration file", runServe},
		"validate": {"check a configuration file and print its errors", runValidate},
		"status":   {"show features, leases, queues and plugins", runStatus},
		"remove":   {"remove (release) a lease as an administrator", runRemove},
		"reload":   {"reread the configuration, keeping every lease", runReload},
		"events":   {"events tail: print live events", runEvents},
		"version":  {"print the version", runVersion},
		"run":      {"hold a seat while a program runs", runRun},
		"bench":    {"load-test a gateway over concurrent-lm, beside a TCP echo baseline", runBench},
		"import":   {"import flexlm: print the HCL equivalent of FlexLM licence and options files", runImport},
		"lmutil":   {"FlexLM-compatible lmutil (lmstat, lmremove, lmreread, ...)", runLmutil},
		"lsmon":    {"Sentinel-style monitor of a sentinel plugin", runLsmon},
	}
}

// Main runs the licensegw command line and returns its exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, getenv: os.Getenv}
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "licensegw: unknown command %q\n\n", args[0])
		usage(stderr, cmds)
		return exitUsage
	}
	return c.run(ctx, e, args[1:])
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "Usage: licensegw <command> [flags] [args]")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'licensegw <command> -h' for a command's flags.")
}

// newFlags makes a flag set that reports errors instead of exiting.
func newFlags(e *env, name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: licensegw %s %s\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags; it returns false and the exit status when the command
// should stop (help asked, or a bad flag).
func parse(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	return 0, true
}

// logger is the daemon's root logger; LICENSEGW_LOG sets its level.
func logger(e *env, level string) hclog.Logger {
	if l := e.getenv("LICENSEGW_LOG"); l != "" {
		level = l
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:   "licensegw",
		Level:  hclog.LevelFromString(strings.ToLower(level)),
		Output: e.stderr,
	})
}

func fail(e *env, format string, a ...any) int {
	fmt.Fprintf(e.stderr, "licensegw: "+format+"\n", a...)
	return exitFail
}
