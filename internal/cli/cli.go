package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	hcli "github.com/hashicorp/cli"
	"github.com/posener/complete"

	"github.com/licensegw/licensegw/gateway/report"
	"github.com/licensegw/licensegw/internal/version"
)

// Exit statuses, the same for every command; README.md lists them.
const (
	exitOK        = 0
	exitFail      = 1   // the command ran and failed
	exitUsage     = 2   // the command line is wrong
	exitConfig    = 3   // the configuration is invalid
	exitDenied    = 4   // run: no seat was granted
	exitCannotRun = 126 // run: PROGRAM exists but cannot be executed
	exitNotFound  = 127 // run: PROGRAM was not found
)

// env is what every command gets: its output streams and the environment.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// command is one licensegw subcommand. Main adapts it to hashicorp/cli,
// which gives every command the same -h, help, completion and exit
// statuses. A command keeps its option values in its own fields, which
// flags binds.
type command interface {
	// synopsis is the line in the command list.
	synopsis() string
	// usage follows "Usage: licensegw " in the help, e.g. "status [options]".
	usage() string
	// help says what the command does, below the usage line.
	help() string
	// flags declares the command's options on fs.
	flags(e *env, fs *flag.FlagSet)
	// run runs the command with the arguments left after the options.
	run(ctx context.Context, e *env, args []string) int
}

// positional is implemented by commands whose options end at the first
// argument (run: what follows is the program's). Other commands accept
// options before and after their arguments.
type positional interface{ optionsEndAtFirstArg() }

// rawArgs is implemented by commands that parse their own arguments
// (lmutil and lsmon keep FlexLM's and Sentinel's flags, where lmremove -h
// is not a request for help).
type rawArgs interface{ takesRawArgs() }

// argPredictor is implemented by commands whose arguments the shell can
// complete (configuration files, say).
type argPredictor interface{ predictArgs() complete.Predictor }

// commands is the command tree. A key with a space is a subcommand
// ("events tail"); its parent must be in the tree too.
func commands() map[string]command {
	return map[string]command{
		"serve":                        &serveCommand{},
		"validate":                     &validateCommand{},
		"status":                       &statusCommand{},
		"remove":                       &removeCommand{},
		"leases":                       &leasesCommand{},
		"reload":                       &reloadCommand{},
		"events":                       &groupCommand{name: "events", summary: "work with the event stream (events tail, events verify)"},
		"events tail":                  &eventsTailCommand{},
		"events verify":                &eventsVerifyCommand{},
		"journal":                      &groupCommand{name: "journal", summary: "look after the event journal (journal repair)"},
		"journal repair":               &journalRepairCommand{},
		"nats":                         &groupCommand{name: "nats", summary: "make identities for the embedded NATS server (nats identity)"},
		"nats identity":                &natsIdentityCommand{},
		"token":                        &groupCommand{name: "token", summary: "make admin API tokens and the hashes a configuration holds"},
		"token create":                 &tokenCreateCommand{},
		"token hash":                   &tokenHashCommand{},
		"version":                      &versionCommand{},
		"run":                          &runCommand{},
		"bench":                        &benchCommand{},
		"import":                       &groupCommand{name: "import", summary: "convert vendor licence files (import flexlm, import sentinel_reservations)"},
		"import flexlm":                &importCommand{format: "flexlm", files: "LICENSE_FILE [OPTIONS_FILE]", needs: "one licence file"},
		"import sentinel_reservations": &importCommand{format: "sentinel_reservations", files: "FILE", needs: "one reservation file"},
		"lmutil":                       &lmutilCommand{},
		"lsmon":                        &lsmonCommand{},
		"report":                       &groupCommand{name: "report", summary: "usage, denial and peak reports from the journal (report usage)"},
		"report usage":                 &reportCommand{kind: report.KindUsage},
		"report denials":               &reportCommand{kind: report.KindDenials},
		"report peaks":                 &reportCommand{kind: report.KindPeaks},
		"simulate":                     &simulateCommand{},
		"leader":                       &groupCommand{name: "leader", summary: "the cluster's leadership (leader step-down)"},
		"leader step-down":             &leaderStepDownCommand{},
	}
}

// Main runs the licensegw command line and returns its exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return mainEnv(ctx, &env{stdout: stdout, stderr: stderr, getenv: os.Getenv}, args)
}

func mainEnv(ctx context.Context, e *env, args []string) int {
	cmds := commands()
	// A shell asking for completions (COMP_LINE set) calls the binary
	// with its own arguments; hashicorp/cli answers it.
	if e.getenv("COMP_LINE") == "" {
		if len(args) == 0 {
			fmt.Fprintln(e.stderr, topHelp(cmds))
			return exitUsage
		}
		if args[0] == "help" {
			if len(args) == 1 {
				fmt.Fprintln(e.stdout, topHelp(cmds))
				return exitOK
			}
			// help CMD [SUB] is CMD [SUB] -h.
			args = append(args[1:len(args):len(args)], "-h")
		}
		if c, ok := cmds[args[0]]; ok {
			if _, raw := c.(rawArgs); raw {
				return c.run(ctx, e, args[1:])
			}
		}
		if code, ok := checkTopLevel(e, cmds, args); !ok {
			return code
		}
	}

	factories := make(map[string]hcli.CommandFactory, len(cmds))
	for name, c := range cmds {
		a := &adapter{ctx: ctx, e: e, name: name, c: c}
		factories[name] = func() (hcli.Command, error) { return a, nil }
	}
	c := &hcli.CLI{
		Name:         "licensegw",
		Args:         args,
		Version:      version.String(),
		Commands:     factories,
		HelpFunc:     func(map[string]hcli.CommandFactory) string { return topHelp(cmds) },
		HelpWriter:   e.stdout,
		ErrorWriter:  e.stderr,
		Autocomplete: true,
	}
	code, err := c.Run()
	if err != nil {
		return fail(e, "%v", err)
	}
	return code
}

// checkTopLevel rejects what hashicorp/cli would otherwise answer with
// statuses of its own: unknown commands (127, which is run's "program
// not found") and unknown options before the command (1).
func checkTopLevel(e *env, cmds map[string]command, args []string) (int, bool) {
	for _, a := range args {
		switch {
		case a == "--":
			return 0, true
		case strings.HasPrefix(a, "-"):
			switch strings.TrimLeft(a, "-") {
			case "h", "help", "v", "version", "autocomplete-install", "autocomplete-uninstall":
				continue
			}
			fmt.Fprintf(e.stderr, "licensegw: unknown option %q before the command\n\n%s\n", a, topHelp(cmds))
			return exitUsage, false
		default:
			if _, ok := cmds[a]; !ok {
				fmt.Fprintf(e.stderr, "licensegw: unknown command %q\n\n%s\n", a, topHelp(cmds))
				return exitUsage, false
			}
			return 0, true
		}
	}
	return 0, true
}

// topHelp is the command list: top-level commands, with the commands of
// groups shown under their group's name.
func topHelp(cmds map[string]command) string {
	var b strings.Builder
	b.WriteString("Usage: licensegw [--version] [--help] <command> [args]\n\nCommands:\n")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		if _, group := cmds[n].(*groupCommand); !group {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "    %-14s %s\n", n, cmds[n].synopsis())
	}
	b.WriteString("\nRun 'licensegw help <command>' for a command's options.\n" +
		"Environment variables and exit statuses: see README.md.")
	return b.String()
}

// adapter is a command as hashicorp/cli sees it. hashicorp/cli's Run has
// no context, so the adapter carries Main's.
type adapter struct {
	ctx  context.Context
	e    *env
	name string
	c    command
}

func (a *adapter) Synopsis() string { return a.c.synopsis() }

func (a *adapter) Help() string {
	if _, raw := a.c.(rawArgs); raw {
		return strings.TrimRight(a.c.help(), "\n")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: licensegw %s\n\n", a.c.usage())
	b.WriteString(indent(strings.TrimSpace(a.c.help())))
	fs := a.flagSet()
	if hasFlags(fs) {
		b.WriteString("\n\nOptions:\n\n")
		var d bytes.Buffer
		fs.SetOutput(&d)
		fs.PrintDefaults()
		b.WriteString(strings.TrimRight(d.String(), "\n"))
	}
	return b.String()
}

// HelpTemplate is the help alone: a group's help lists its commands
// itself, so that running the group alone shows the same list.
func (a *adapter) HelpTemplate() string { return "{{.Help}}\n" }

func (a *adapter) Run(args []string) int {
	if _, raw := a.c.(rawArgs); raw {
		return a.c.run(a.ctx, a.e, args)
	}
	fs := a.flagSet()
	fs.SetOutput(io.Discard)
	_, stopAtArg := a.c.(positional)
	rest, err := parseArgs(fs, args, !stopAtArg)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(a.e.stdout, a.Help())
			return exitOK
		}
		fmt.Fprintf(a.e.stderr, "licensegw %s: %v\n\n%s\n", a.name, err, a.Help())
		return exitUsage
	}
	code := a.c.run(a.ctx, a.e, rest)
	if code == exitUsage {
		fmt.Fprintf(a.e.stderr, "\n%s\n", a.Help())
	}
	return code
}

func (a *adapter) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet(a.name, flag.ContinueOnError)
	a.c.flags(a.e, fs)
	return fs
}

func (a *adapter) AutocompleteArgs() complete.Predictor {
	if p, ok := a.c.(argPredictor); ok {
		return p.predictArgs()
	}
	return complete.PredictNothing
}

func (a *adapter) AutocompleteFlags() complete.Flags {
	flags := complete.Flags{}
	if _, raw := a.c.(rawArgs); raw {
		return flags
	}
	a.flagSet().VisitAll(func(f *flag.Flag) {
		flags["-"+f.Name] = complete.PredictAnything
		if isBool(f) {
			flags["-"+f.Name] = complete.PredictNothing
		}
	})
	return flags
}

// parseArgs parses options; with interspersed, options may also follow
// arguments (validate FILE -json). "--" ends the options.
func parseArgs(fs *flag.FlagSet, args []string, interspersed bool) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if !interspersed || len(args) == 0 {
			return append(rest, args...), nil
		}
		// fs.Parse stopped at an argument, or after "--", which it dropped.
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func indent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "\n")
}

// groupCommand is a parent such as "events": run alone it lists its
// commands.
type groupCommand struct {
	name, summary string
}

func (g *groupCommand) synopsis() string          { return g.summary }
func (g *groupCommand) usage() string             { return g.name + " <command> [args]" }
func (g *groupCommand) flags(*env, *flag.FlagSet) {}
func (g *groupCommand) optionsEndAtFirstArg()     {}

func (g *groupCommand) help() string {
	var names []string
	for n, c := range commands() {
		if strings.HasPrefix(n, g.name+" ") {
			names = append(names, fmt.Sprintf("    %-10s %s", strings.TrimPrefix(n, g.name+" "), c.synopsis()))
		}
	}
	sort.Strings(names)
	return strings.ToUpper(g.summary[:1]) + g.summary[1:] + ".\n\nCommands:\n" + strings.Join(names, "\n")
}

func (g *groupCommand) run(_ context.Context, e *env, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(e.stderr, "licensegw %s: unknown command %q\n", g.name, args[0])
	} else {
		fmt.Fprintf(e.stderr, "licensegw %s: which command?\n", g.name)
	}
	return exitUsage
}

func fail(e *env, format string, a ...any) int {
	fmt.Fprintf(e.stderr, "licensegw: "+format+"\n", a...)
	return exitFail
}
