package config

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/licensegw/licensegw/gateway/events"

	"github.com/licensegw/licensegw/sdk"
	"github.com/licensegw/licensegw/sdk/policy"
)

// Import is an import "<format>" { } block: vendor files that the plugin
// providing the format turns into policy. Its body is decoded with the
// schema the plugin declares for the format (sdk.ImportFormat).
type Import struct {
	Format    string
	Body      hcl.Body
	DeclRange hcl.Range
	// FormatRange is the label's range, for "no plugin provides it".
	FormatRange hcl.Range
}

// imports collects the import blocks; what they mean is up to plugins.
func (d *decoder) imports(blocks hcl.Blocks) []Import {
	var out []Import
	for _, b := range blocks {
		if b.Type != "import" {
			continue
		}
		if b.Labels[0] == "" {
			d.errorf(b.LabelRanges[0], "Invalid import format", "The import format must not be empty.")
			continue
		}
		out = append(out, Import{Format: b.Labels[0], Body: b.Body, DeclRange: b.DefRange, FormatRange: b.LabelRanges[0]})
	}
	return out
}

// Imported is the policy a plugin imported for one block of the
// configuration: an import block, or the plugin's own config block.
type Imported struct {
	// Origin names the block in messages, e.g. `the import "flexlm"` or
	// `plugin "flexlm"`.
	Origin string
	Block  hcl.Range // the block's header
	Body   hcl.Body  // the block's body: diagnostics about an attribute point into it
	Result *sdk.ImportResult
}

// ApplyImports merges what plugins imported into c: their features, then
// the groups they add to and the names they exclude from groups, then
// their reservations on features defined anywhere (in the file or by
// another import), so that the order of the blocks does not matter. Each
// import's diagnostics are reported at their places in the vendor files
// (whose text c keeps for WriteDiagnostics), or at the attribute they name.
// An import with errors adds nothing. The diagnostics come back in source
// order; adding the warnings to c.Warnings is the caller's job.
func (c *Config) ApplyImports(imps []Imported) hcl.Diagnostics {
	var diags hcl.Diagnostics
	var ok []Imported
	for _, imp := range imps {
		for _, s := range imp.Result.Sources {
			c.addSource(c.shownName(s.Name), s.Text)
		}
		for _, d := range imp.Result.Diagnostics {
			if d.Severity != sdk.SeverityInfo {
				diags = append(diags, c.importDiagnostic(imp, d))
			}
		}
		if !imp.Result.HasErrors() {
			ok = append(ok, imp)
		}
	}
	for _, imp := range ok {
		diags = append(diags, c.addFeatures(imp)...)
	}
	// Every addition, then every exclusion: a name an import excludes
	// stays out whichever block adds it.
	for _, imp := range ok {
		c.Groups = mergeGroups(c.Groups, imp.Result.Policy.Groups, nil)
		c.HostGroups = mergeGroups(c.HostGroups, imp.Result.Policy.HostGroups, nil)
	}
	for _, imp := range ok {
		c.Groups = mergeGroups(c.Groups, nil, imp.Result.Policy.GroupExclusions)
		c.HostGroups = mergeGroups(c.HostGroups, nil, imp.Result.Policy.HostGroupExclusions)
	}
	if slices.ContainsFunc(c.Features, func(f policy.Feature) bool { return f.Seats < 0 }) {
		// A feature's seat count is invalid (reported where it is
		// written): reservations measured against it would only add
		// errors that are its consequence, before the one that matters.
		sortDiagnostics(diags)
		return diags
	}
	for _, imp := range ok {
		diags = append(diags, c.addReservations(imp)...)
	}
	sortDiagnostics(diags)
	return diags
}

// PluginDiagnostics are a plugin's diagnostics about its config block
// (sdk.ConfigValidator) at the attributes they name, or at the block.
func PluginDiagnostics(p Plugin, ds []sdk.Diagnostic) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range ds {
		if d.Severity == sdk.SeverityInfo {
			continue
		}
		sev := hcl.DiagWarning
		if d.Severity == sdk.SeverityError {
			sev = hcl.DiagError
		}
		rng := attrRange(p.Config, d.Attribute, p.DeclRange)
		out = append(out, &hcl.Diagnostic{Severity: sev, Summary: d.Summary, Detail: d.Detail, Subject: &rng})
	}
	sortDiagnostics(out)
	return out
}

func (c *Config) addFeatures(imp Imported) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if c.featureRanges == nil {
		c.featureRanges = map[featureKey]hcl.Range{}
	}
	for _, f := range imp.Result.Policy.Features {
		if f.Vendor == "" {
			f.Vendor = events.DefaultVendor // as a feature block without vendor
		}
		key := featureKey{f.Vendor, f.Name, f.Version}
		if first, dup := c.featureRanges[key]; dup {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate feature",
				Detail: fmt.Sprintf("Feature %q of vendor %q at version %s from %s is already defined at %s.",
					f.Name, f.Vendor, f.Version, imp.Origin, first),
				Subject: imp.Block.Ptr(),
			})
			continue
		}
		c.featureRanges[key] = imp.Block
		c.Features = append(c.Features, f)
	}
	return diags
}

// addReservations puts an import's reservations on the features they name
// and checks that no feature is left with more seats reserved than it has.
func (c *Config) addReservations(imp Imported) hcl.Diagnostics {
	var diags hcl.Diagnostics
	touched := map[int]policy.FeatureReservation{}
	for _, r := range imp.Result.Policy.Reservations {
		matched := false
		for i := range c.Features {
			f := &c.Features[i]
			if f.Name != r.Feature || (r.Version != "" && f.Version != r.Version) {
				continue
			}
			matched = true
			f.Reserve = append(slices.Clip(f.Reserve), r.Reservation)
			touched[i] = r
		}
		if !matched {
			name := r.Feature
			if r.Version != "" {
				name += " version " + r.Version
			}
			diags = append(diags, c.atPos(imp, r.Pos, hcl.DiagError, "Reservation for an unknown feature",
				fmt.Sprintf("The reservation is for feature %s, which the configuration does not define.", name)))
		}
	}
	for _, i := range slices.Sorted(maps.Keys(touched)) {
		f := c.Features[i]
		total := 0
		for _, r := range f.Reserve {
			total += r.Seats
		}
		if total > f.Seats {
			diags = append(diags, c.atPos(imp, touched[i].Pos, hcl.DiagError, "More seats reserved than the feature has",
				fmt.Sprintf("Feature %s %s has %d seats, and %d are reserved.", f.Name, f.Version, f.Seats, total)))
		}
	}
	return diags
}

// importDiagnostic is a plugin's diagnostic at its place: in a vendor file,
// at the attribute it names, or at the block.
func (c *Config) importDiagnostic(imp Imported, d sdk.Diagnostic) *hcl.Diagnostic {
	sev := hcl.DiagWarning
	if d.Severity == sdk.SeverityError {
		sev = hcl.DiagError
	}
	if d.Pos.IsZero() && d.Attribute != "" {
		return &hcl.Diagnostic{Severity: sev, Summary: d.Summary, Detail: d.Detail, Subject: attrRange(imp.Body, d.Attribute, imp.Block).Ptr()}
	}
	return c.atPos(imp, d.Pos, sev, d.Summary, d.Detail)
}

// atPos is a diagnostic at pos in a vendor file (at the block when pos is
// zero), saying which block imported the file.
func (c *Config) atPos(imp Imported, pos policy.Pos, sev hcl.DiagnosticSeverity, summary, detail string) *hcl.Diagnostic {
	from := fmt.Sprintf("From %s at %s:%d:%d.", imp.Origin, imp.Block.Filename, imp.Block.Start.Line, imp.Block.Start.Column)
	if detail == "" {
		detail = from
	} else {
		detail = strings.TrimSuffix(detail, ".") + ". " + from
	}
	hd := &hcl.Diagnostic{Severity: sev, Summary: summary, Detail: detail, Subject: imp.Block.Ptr()}
	if !pos.IsZero() && pos.Line > 0 {
		p := hcl.Pos{Line: pos.Line, Column: max(pos.Col, 1)}
		hd.Subject = &hcl.Range{Filename: c.shownName(pos.File), Start: p, End: p}
	}
	return hd
}

// shownName names a file an import read the way the configuration's own
// file is named: a relative name is relative to the configuration's
// directory.
func (c *Config) shownName(name string) string {
	if name == "" || filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(c.shownDir, name)
}

// attrRange is the range of attribute name's value in body, or def when
// body does not set it.
func attrRange(body hcl.Body, name string, def hcl.Range) hcl.Range {
	if sb, ok := body.(*hclsyntax.Body); ok {
		if a, ok := sb.Attributes[name]; ok {
			return a.Expr.Range()
		}
	}
	return def
}

// mergeGroups adds add's members to dst's groups of the same names, then
// removes the names exclude lists, whatever added them. The groups it
// touches are sorted and without duplicates.
func mergeGroups(dst, add, exclude map[string][]string) map[string][]string {
	if len(add) == 0 && len(exclude) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string][]string, len(add))
	}
	touched := map[string]bool{}
	for name, members := range add {
		dst[name] = append(slices.Clip(dst[name]), members...)
		touched[name] = true
	}
	for name, names := range exclude {
		dst[name] = slices.DeleteFunc(slices.Clone(dst[name]), func(m string) bool { return slices.Contains(names, m) })
		touched[name] = true
	}
	for name := range touched {
		g := slices.Clone(dst[name])
		slices.Sort(g)
		dst[name] = slices.Compact(g)
	}
	return dst
}
