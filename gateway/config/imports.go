package config

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/hashicorp/hcl/v2"

	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/plugins/flexlm/flexconv"
	"github.com/licensegw/licensegw/plugins/flexlm/licfile"
	"github.com/licensegw/licensegw/plugins/flexlm/optfile"
	"github.com/licensegw/licensegw/plugins/sentinel/rsv"
	"github.com/licensegw/licensegw/sdk/policy"
)

// Import formats: vendor files the gateway reads as features and policies
// (DESIGN decision 8: format importers turn vendor files into core
// features and policies, so the core alone decides who gets a seat).
const (
	ImportFlexLM               = "flexlm"                // license_file, options_file
	ImportSentinelReservations = "sentinel_reservations" // file
)

var flexlmImportSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "license_file", Required: true}, {Name: "options_file"}},
}

var rsvImportSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "file", Required: true}},
}

// imports applies every import block, in file order, after the features of
// the file itself: FlexLM licence files add features (and their options
// files groups and policies); reservation files add reservations to the
// features known by then.
func (d *decoder) imports(c *Config, blocks hcl.Blocks, features map[featureKey]hcl.Range) {
	for _, b := range blocks {
		if b.Type != "import" {
			continue
		}
		switch b.Labels[0] {
		case ImportFlexLM:
			d.importFlexLM(c, b, features)
		case ImportSentinelReservations:
			d.importReservations(c, b)
		default:
			d.errorf(b.LabelRanges[0], "Unknown import format",
				"The import format %q is not one of %q, %q.", b.Labels[0], ImportFlexLM, ImportSentinelReservations)
		}
	}
}

func (d *decoder) importFlexLM(c *Config, b *hcl.Block, features map[featureKey]hcl.Range) {
	a := d.content(b.Body, flexlmImportSchema).Attributes
	var licPath, optPath string
	if !d.str(a, "license_file", &licPath) {
		return
	}
	licName := d.shownPath(licPath)
	licPath = d.path(licPath)
	src, err := os.ReadFile(licPath)
	if err != nil {
		d.errorf(a["license_file"].Expr.Range(), "Cannot read licence file", "%v", err)
		return
	}
	lic, err := licfile.Parse(licName, src)
	if err != nil {
		d.errorf(a["license_file"].Expr.Range(), "Invalid licence file", "%v", err)
		return
	}
	var opts *optfile.File
	var osrc []byte
	var optName string
	if d.str(a, "options_file", &optPath) {
		optName = d.shownPath(optPath)
		optPath = d.path(optPath)
		osrc, err = os.ReadFile(optPath)
		if err != nil {
			d.errorf(a["options_file"].Expr.Range(), "Cannot read options file", "%v", err)
			return
		}
		if opts, err = optfile.Parse(optName, osrc); err != nil {
			d.errorf(a["options_file"].Expr.Range(), "Invalid options file", "%v", err)
			return
		}
	}
	res, diags := flexconv.Convert(lic, opts)
	// What the core cannot honour is said, never dropped: each warning
	// points at its line of the licence or options file (whose source
	// WriteDiagnostics then shows), and appears in `licensegw validate`
	// and the daemon's log at start and reload.
	c.addSource(licName, src)
	if opts != nil {
		c.addSource(optName, osrc)
	}
	for _, diag := range diags {
		if diag.Severity > flexconv.Info {
			d.append(hcl.Diagnostics{importWarning(diag, b.DefRange)})
		}
	}
	for _, f := range res.Features {
		key := featureKey{f.Vendor, f.Name, f.Version}
		if first, dup := features[key]; dup {
			d.errorf(b.DefRange, "Duplicate feature",
				"Feature %q of vendor %q at version %s from %s is already defined at %s.", f.Name, f.Vendor, f.Version, licPath, first)
			continue
		}
		features[key] = b.DefRange
		c.Features = append(c.Features, f)
	}
	c.Groups = mergeGroups(c.Groups, res.Groups)
	c.HostGroups = mergeGroups(c.HostGroups, res.HostGroups)
}

// importWarning is a FlexLM import warning as a diagnostic at its place in
// the licence or options file, naming the import block it came from.
func importWarning(diag flexconv.Diagnostic, block hcl.Range) *hcl.Diagnostic {
	hd := &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  diag.Message,
		Detail:   fmt.Sprintf("From the FlexLM import at %s:%d:%d.", block.Filename, block.Start.Line, block.Start.Column),
		Subject:  block.Ptr(),
	}
	if p := diag.Pos; p.File != "" && p.Line > 0 {
		col := max(p.Col, 1)
		hd.Subject = &hcl.Range{
			Filename: p.File,
			Start:    hcl.Pos{Line: p.Line, Column: col},
			End:      hcl.Pos{Line: p.Line, Column: col},
		}
	}
	return hd
}

func (d *decoder) importReservations(c *Config, b *hcl.Block) {
	a := d.content(b.Body, rsvImportSchema).Attributes
	var path string
	if !d.str(a, "file", &path) {
		return
	}
	path = d.path(path)
	pol, err := rsv.Load(path)
	if err != nil {
		d.errorf(a["file"].Expr.Range(), "Invalid reservation file", "%v", err)
		return
	}
	if slices.ContainsFunc(c.Features, func(f seats.Feature) bool { return f.Seats < 0 }) {
		// A feature's seat count is invalid (reported where it is
		// written): reservations measured against it would only add
		// errors that are its consequence, before the one that matters.
		return
	}
	cfg := policy.Set{Features: c.Features, Groups: c.Groups, HostGroups: c.HostGroups}
	if err := pol.Apply(&cfg); err != nil {
		summary := "Reservation file does not apply"
		if errors.Is(err, rsv.ErrUnknownFeature) {
			summary = "Reservation for an unknown feature"
		}
		d.errorf(a["file"].Expr.Range(), summary, "%v", err)
		return
	}
	c.Features, c.Groups, c.HostGroups = cfg.Features, cfg.Groups, cfg.HostGroups
}

// mergeGroups adds src's members to dst's groups of the same names.
func mergeGroups(dst, src map[string][]string) map[string][]string {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string][]string, len(src))
	}
	for name, members := range src {
		for _, m := range members {
			if !slices.Contains(dst[name], m) {
				dst[name] = append(dst[name], m)
			}
		}
	}
	return dst
}
