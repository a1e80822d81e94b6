package flexlm

import (
	"context"
	"os"
	"strings"

	"github.com/licensegw/licensegw/plugins/flexlm/flexconv"
	"github.com/licensegw/licensegw/plugins/flexlm/licfile"
	"github.com/licensegw/licensegw/plugins/flexlm/optfile"
	"github.com/licensegw/licensegw/sdk"
)

// FormatName is the import format of FlexLM licence and options files:
// import "flexlm" { license_file = ..., options_file = ... } and
// `licensegw import flexlm LICENSE_FILE [OPTIONS_FILE]`.
const FormatName = "flexlm"

// importFormat describes FormatName in Info.
func importFormat() sdk.ImportFormat {
	return sdk.ImportFormat{
		Name:        FormatName,
		Description: "FlexLM licence file (FEATURE/INCREMENT lines become features) and options file (groups, RESERVE, MAX, INCLUDE, EXCLUDE)",
		Config: sdk.Schema{
			{Name: "license_file", Type: sdk.String, Required: true, Description: "FlexLM licence file(s), ':'-separated"},
			{Name: "options_file", Type: sdk.String, Description: "FlexLM options file"},
		},
		Files: []string{"license_file", "options_file"},
	}
}

var _ sdk.Importer = Protocol{}

// Import implements sdk.Importer: the licence and options files of the
// plugin's own block (or of an import "flexlm" block) become features,
// groups and policies. What the gateway cannot honour is a warning at its
// line; notes (Info) go into `licensegw import`'s comments.
func (Protocol) Import(_ context.Context, req sdk.ImportRequest) (*sdk.ImportResult, error) {
	res := &sdk.ImportResult{}
	var lics []*licfile.File
	for _, name := range splitFiles(req.Config.String("license_file", "")) {
		src, err := os.ReadFile(req.Path(name))
		if err != nil {
			res.Diagnostics = append(res.Diagnostics, sdk.AttrError("license_file", "Cannot read licence file", err.Error()))
			return res, nil
		}
		res.Sources = append(res.Sources, sdk.Source{Name: name, Text: src})
		lic, err := licfile.Parse(name, src)
		if err != nil {
			res.Diagnostics = append(res.Diagnostics, sdk.AttrError("license_file", "Invalid licence file", err.Error()))
			return res, nil
		}
		lics = append(lics, lic)
	}
	var opts *optfile.File
	if name := req.Config.String("options_file", ""); name != "" {
		src, err := os.ReadFile(req.Path(name))
		if err != nil {
			res.Diagnostics = append(res.Diagnostics, sdk.AttrError("options_file", "Cannot read options file", err.Error()))
			return res, nil
		}
		res.Sources = append(res.Sources, sdk.Source{Name: name, Text: src})
		if opts, err = optfile.Parse(name, src); err != nil {
			res.Diagnostics = append(res.Diagnostics, sdk.AttrError("options_file", "Invalid options file", err.Error()))
			return res, nil
		}
	}
	if len(lics) == 0 {
		// The plugin's block names no licence file: nothing to import
		// (an options file alone has no features to apply to).
		return res, nil
	}
	conv, diags := flexconv.ConvertFiles(lics, opts)
	res.Policy = conv.Set()
	res.Diagnostics = flexconv.Notes(diags)
	return res, nil
}

// splitFiles splits a ':'-separated list of files, dropping empty names.
func splitFiles(list string) []string {
	var out []string
	for _, f := range strings.Split(list, ":") {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}
