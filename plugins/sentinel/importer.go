package sentinel

import (
	"context"
	"errors"
	"os"

	"github.com/licensegw/licensegw/plugins/sentinel/rsv"
	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/policy"
)

// FormatName is the import format of reservation files: import
// "sentinel_reservations" { file = ... } and `licensegw import
// sentinel_reservations FILE`.
const FormatName = "sentinel_reservations"

func importFormat() sdk.ImportFormat {
	return sdk.ImportFormat{
		Name:        FormatName,
		Description: "Sentinel-style reservation file: feature[,version]:group:count:members lines become group reservations",
		Config:      sdk.Schema{{Name: "file", Type: sdk.String, Required: true, Description: "the reservation file"}},
		Files:       []string{"file"},
	}
}

var (
	_ sdk.Importer        = (*Plugin)(nil)
	_ sdk.ConfigValidator = (*Plugin)(nil)
)

// Import implements sdk.Importer: the reservation file of the plugin's own
// block (reservation_file), or of an import "sentinel_reservations" block
// (file), becomes reservations for groups and the groups' members (see
// rsv.Convert for what the file's lines mean in the gateway's terms).
func (p *Plugin) Import(_ context.Context, req sdk.ImportRequest) (*sdk.ImportResult, error) {
	attr := "reservation_file"
	if req.Format == FormatName {
		attr = "file"
	}
	res := &sdk.ImportResult{}
	name := req.Config.String(attr, "")
	if name == "" {
		return res, nil
	}
	src, err := os.ReadFile(req.Path(name))
	if err != nil {
		res.Diagnostics = append(res.Diagnostics, sdk.AttrError(attr, "Cannot read reservation file", err.Error()))
		return res, nil
	}
	res.Sources = append(res.Sources, sdk.Source{Name: name, Text: src})
	f, err := rsv.Parse(name, src)
	var pol *rsv.Policy
	if err == nil {
		pol, err = rsv.Convert(f)
	}
	if err != nil {
		res.Diagnostics = append(res.Diagnostics, rsvDiagnostic(attr, err))
		return res, nil
	}
	res.Policy = pol.Set()
	return res, nil
}

// rsvDiagnostic is a reservation file error at its line when it has one.
func rsvDiagnostic(attr string, err error) sdk.Diagnostic {
	var re *rsv.Error
	if errors.As(err, &re) && re.Pos.Line > 0 {
		return sdk.Diagnostic{Severity: sdk.SeverityError, Summary: "Invalid reservation file", Detail: re.Msg + ".",
			Pos: policy.Pos{File: re.Pos.File, Line: re.Pos.Line, Col: re.Pos.Col}}
	}
	return sdk.AttrError(attr, "Invalid reservation file", err.Error())
}

// ValidateConfig implements sdk.ConfigValidator: the checks Serve makes of
// the block, at the attribute they are about, before the plugin runs.
func (p *Plugin) ValidateConfig(_ context.Context, req sdk.ValidateRequest) []sdk.Diagnostic {
	_, err := parseOptions(req.Config, req.Name)
	var ce *configError
	switch {
	case errors.As(err, &ce):
		return []sdk.Diagnostic{sdk.AttrError(ce.attr, "Invalid sentinel setting", ce.msg+".")}
	case err != nil:
		return []sdk.Diagnostic{sdk.AttrError("", "Invalid sentinel setting", err.Error())}
	}
	return nil
}
