package sdk

import (
	"context"

	"github.com/licensegw/licensegw/sdk/policy"
)

// Importer is an optional interface of a Protocol: the plugin turns vendor
// files (licence files, options files, reservation files) into policy the
// gateway's accounting applies. The gateway asks at start, at `licensegw
// validate` and at every reload, so a changed file takes effect on reload;
// it never parses the files itself.
//
// A request with an empty Format is about the plugin's own config { }
// block (the FlexLM plugin's license_file and options_file, say): the
// files configured there are imported, each file configured once. A
// request with a Format is about an import "<format>" { } block or
// `licensegw import <format> FILE...`, whose attributes follow the
// format's schema in Info.Imports.
//
// Import runs in a process started for it, before Configure: it must not
// depend on Serve, and should only read files.
type Importer interface {
	Import(ctx context.Context, req ImportRequest) (*ImportResult, error)
}

// ImportFormat describes a vendor file format a plugin imports.
type ImportFormat struct {
	Name        string // as in import "<name>" { }: [a-z0-9_]+
	Description string
	Config      Schema   // the import block's attributes
	Files       []string // the attributes `licensegw import <name> FILE...` fills, in order
}

// ImportRequest asks for the policy of vendor files.
type ImportRequest struct {
	Format string // "" for the plugin's own config block; else an ImportFormat's Name
	Config Config // the decoded block (the plugin's schema, or the format's)
	Dir    string // relative file names in Config are relative to Dir
	Name   string // the plugin instance's name; "" for an import block
}

// Path resolves a file name of the request: relative names are relative to
// the configuration's directory, whatever the plugin's working directory.
func (r ImportRequest) Path(name string) string { return resolve(r.Dir, name) }

// ImportResult is what an import found.
type ImportResult struct {
	Policy policy.Set
	// Diagnostics are what the import has to say: notes (SeverityInfo,
	// kept for `licensegw import`'s comments), what is not honoured as
	// written (SeverityWarning) and what makes the block unusable
	// (SeverityError). Each points at its place in a vendor file, or at
	// the attribute it is about.
	Diagnostics []Diagnostic
	// Sources are the files read, under the names diagnostics give them,
	// so that the gateway can quote the lines it reports.
	Sources []Source
}

// Source is a file an import read.
type Source struct {
	Name string
	Text []byte
}

// HasErrors reports whether a diagnostic is an error.
func (r *ImportResult) HasErrors() bool { return hasErrors(r.Diagnostics) }
