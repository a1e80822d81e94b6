package sdk

import "context"

// ConfigValidator is an optional interface of a Protocol: it checks a
// decoded config { } block beyond what the schema says (values in range,
// files readable, combinations that make sense). The gateway calls it at
// start, at `licensegw validate` and at reload, and prints its diagnostics
// at the attributes they name, so a bad value is reported where it is
// written instead of becoming a plugin that fails to start over and over.
//
// It runs in a process started for it, before Configure; Serve should
// still check what it relies on.
type ConfigValidator interface {
	ValidateConfig(ctx context.Context, req ValidateRequest) []Diagnostic
}

// ValidateRequest is a config block to check.
type ValidateRequest struct {
	Name   string // the plugin instance's name
	Config Config // the block, decoded with the plugin's schema
	Dir    string // relative file names in Config are relative to Dir
}

// Path resolves a file name of the block like ImportRequest.Path.
func (r ValidateRequest) Path(name string) string { return resolve(r.Dir, name) }
