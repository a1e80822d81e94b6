package cli

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/posener/complete"

	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/gateway/pluginhost"
	"github.com/licensegw/licensegw/sdk"
)

// importCommand prints the HCL equivalent of vendor files in one import
// format, as the plugin that provides the format converts them: the same
// conversion a configuration's plugin block or import block makes.
type importCommand struct {
	format string // the import format
	files  string // the files in the usage line
	needs  string // what a call without files lacks, for the error

	plugin  string // -plugin: the plugin executable; default the bundled one
	options string // -options (flexlm): the options file
}

func (c *importCommand) synopsis() string {
	return fmt.Sprintf("print the HCL equivalent of %s files", c.format)
}
func (c *importCommand) usage() string { return "import " + c.format + " [options] " + c.files }
func (c *importCommand) help() string {
	return fmt.Sprintf(`Prints the licensegw features, groups and policies equivalent to the given
%s files, as the plugin that imports the format converts them (by default
the one installed beside licensegw). What cannot be carried over is a
comment in the HCL and, when it changes behaviour, a warning on stderr
with its file:line:col. Exit status 1 when a file cannot be used.`, c.format)
}

func (c *importCommand) flags(_ *env, fs *flag.FlagSet) {
	fs.StringVar(&c.plugin, "plugin", "", "the plugin `executable` that imports the format (default: the one beside licensegw)")
	if c.format == "flexlm" {
		fs.StringVar(&c.options, "options", "", "FlexLM options `file`")
	}
}
func (*importCommand) predictArgs() complete.Predictor { return complete.PredictFiles("*") }

func (c *importCommand) run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintf(e.stderr, "licensegw import %s: %s\n", c.format, c.needs)
		return exitUsage
	}
	path := c.plugin
	if path == "" {
		path = bundledImporters()[c.format]
	}
	probe, err := pluginhost.OpenProbe(ctx, pluginhost.ProbeSpec{Path: path})
	defer probe.Close()
	if err != nil {
		return fail(e, "the %s importer: %v", c.format, err)
	}
	var format *sdk.ImportFormat
	for i, f := range probe.Info().Imports {
		if f.Name == c.format {
			format = &probe.Info().Imports[i]
		}
	}
	if format == nil {
		return fail(e, "%s does not import %s", path, c.format)
	}
	values, code := c.values(e, format, args)
	if code != exitOK {
		return code
	}
	dir, err := os.Getwd()
	if err != nil {
		return fail(e, "%v", err)
	}
	res, err := probe.Import(ctx, sdk.ImportRequest{Format: c.format, Config: sdk.NewConfig(values), Dir: dir})
	if err != nil {
		return fail(e, "%v", err)
	}
	// Every note is a comment in the HCL; warnings and worse are also
	// worth a line on the terminal.
	for _, d := range res.Diagnostics {
		if d.Severity == sdk.SeverityInfo {
			continue
		}
		at := d.Pos.String()
		if at == "" {
			at = d.Attribute
		}
		fmt.Fprintf(e.stderr, "%s: %s: %s", at, d.Severity, d.Summary)
		if d.Detail != "" {
			fmt.Fprintf(e.stderr, ": %s", d.Detail)
		}
		fmt.Fprintln(e.stderr)
	}
	if res.HasErrors() {
		return exitFail
	}
	var sources []string
	for _, s := range res.Sources {
		sources = append(sources, s.Name)
	}
	if err := config.WriteHCL(e.stdout, res.Policy, sources, res.Diagnostics); err != nil {
		return fail(e, "%v", err)
	}
	return exitOK
}

// values fills the format's file attributes from the arguments, in order.
func (c *importCommand) values(e *env, format *sdk.ImportFormat, args []string) (map[string]any, int) {
	if len(args) > len(format.Files) {
		fmt.Fprintf(e.stderr, "licensegw import %s: at most %d files (%v), not %d\n", c.format, len(format.Files), format.Files, len(args))
		return nil, exitUsage
	}
	values := map[string]any{}
	for i, a := range args {
		values[format.Files[i]] = a
	}
	if c.options != "" {
		if _, dup := values["options_file"]; dup {
			fmt.Fprintf(e.stderr, "licensegw import %s: the options file is given twice\n", c.format)
			return nil, exitUsage
		}
		values["options_file"] = c.options
	}
	return values, exitOK
}
