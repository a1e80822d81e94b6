package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/licensegw/licensegw/plugins/flexlm/flexconv"
	"github.com/licensegw/licensegw/plugins/flexlm/licfile"
	"github.com/licensegw/licensegw/plugins/flexlm/lmutil"
	"github.com/licensegw/licensegw/plugins/flexlm/optfile"
	"github.com/licensegw/licensegw/plugins/sentinel/lsmon"
)

// runImport prints the licensegw HCL equivalent of vendor files:
// `licensegw import flexlm LICENSE_FILE [--options FILE]`.
func runImport(_ context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] != "flexlm" {
		fmt.Fprintln(e.stderr, "Usage: licensegw import flexlm LICENSE_FILE [--options FILE]")
		return exitUsage
	}
	fs := newFlags(e, "import flexlm", "LICENSE_FILE [--options FILE]")
	opts := fs.String("options", "", "FlexLM options `file`")
	// Accept the licence file before or after the flags.
	rest := args[1:]
	var licPath string
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		licPath, rest = rest[0], rest[1:]
	}
	if st, ok := parse(fs, rest); !ok {
		return st
	}
	if licPath == "" && fs.NArg() > 0 {
		licPath = fs.Arg(0)
	}
	if licPath == "" {
		fs.Usage()
		return exitUsage
	}
	src, err := os.ReadFile(licPath)
	if err != nil {
		return fail(e, "%v", err)
	}
	lic, err := licfile.Parse(licPath, src)
	if err != nil {
		fmt.Fprintln(e.stderr, err)
	}
	var of *optfile.File
	if *opts != "" {
		osrc, err := os.ReadFile(*opts)
		if err != nil {
			return fail(e, "%v", err)
		}
		if of, err = optfile.Parse(*opts, osrc); err != nil {
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

func runLmutil(_ context.Context, e *env, args []string) int {
	return lmutil.Main(args, e.stdout, e.stderr)
}

func runLsmon(_ context.Context, e *env, args []string) int {
	return lsmon.Main(args, e.stdout, e.stderr)
}
