package config

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/licensegw/licensegw/sdk"
	"github.com/zclconf/go-cty/cty"
)

// DecodePluginConfig decodes a plugin's config { } block (Plugin.Config)
// with the schema the plugin declares. Errors point at the block's source:
// an attribute the schema does not name, a required one left out, a value of
// the wrong type. The values are typed as sdk.Config documents: string,
// float64, bool, []string and time.Duration; attributes left out, or set to
// null, are absent. env() is available as in the rest of the file.
//
// A schema that is itself wrong (an empty or repeated name, an unknown type)
// is the plugin's bug; it is reported at the block too.
func DecodePluginConfig(body hcl.Body, schema sdk.Schema) (sdk.Config, hcl.Diagnostics) {
	if body == nil {
		body = hcl.EmptyBody()
	}
	spec := make(hcldec.ObjectSpec, len(schema))
	var diags hcl.Diagnostics
	for _, attr := range schema {
		ty, err := ctyType(attr.Type)
		if err == nil && attr.Name == "" {
			err = fmt.Errorf("an attribute has no name")
		}
		if err == nil && spec[attr.Name] != nil {
			err = fmt.Errorf("attribute %q is declared twice", attr.Name)
		}
		if err != nil {
			rng := body.MissingItemRange()
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid plugin schema",
				Detail:   fmt.Sprintf("The plugin's configuration schema is wrong: %v. This is a bug in the plugin.", err),
				Subject:  &rng,
			})
			continue
		}
		spec[attr.Name] = &hcldec.AttrSpec{Name: attr.Name, Type: ty, Required: attr.Required}
	}
	if diags.HasErrors() {
		return sdk.NewConfig(map[string]any{}), diags
	}

	obj, diags := hcldec.Decode(body, spec, evalContext())
	// hcldec visits the spec in map order: sort for a stable report.
	sortDiagnostics(diags)
	values := make(map[string]any, len(schema))
	if diags.HasErrors() || obj.IsNull() {
		return sdk.NewConfig(values), diags
	}
	for _, attr := range schema {
		v := obj.GetAttr(attr.Name)
		rng := hcldec.SourceRange(body, spec[attr.Name])
		if v.IsNull() {
			if attr.Required {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Null value",
					Detail:   fmt.Sprintf("The argument %q is required and must not be null.", attr.Name),
					Subject:  &rng,
				})
			}
			continue
		}
		if !v.IsWhollyKnown() {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown value",
				Detail:   fmt.Sprintf("The value of %q is not known.", attr.Name),
				Subject:  &rng,
			})
			continue
		}
		val, err := goValue(attr.Type, v)
		if err != nil {
			summary := "Invalid value"
			if attr.Type == sdk.Duration {
				summary = "Invalid duration"
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  summary,
				Detail:   fmt.Sprintf("The argument %q %s.", attr.Name, err),
				Subject:  &rng,
			})
			continue
		}
		values[attr.Name] = val
	}
	sortDiagnostics(diags)
	return sdk.NewConfig(values), diags
}

// ctyType is the type hcldec converts an attribute of type t to. Durations
// are taken as they come and converted by goValue.
func ctyType(t sdk.AttrType) (cty.Type, error) {
	switch t {
	case sdk.String:
		return cty.String, nil
	case sdk.Number:
		return cty.Number, nil
	case sdk.Bool:
		return cty.Bool, nil
	case sdk.StringList:
		return cty.List(cty.String), nil
	case sdk.Duration:
		return cty.DynamicPseudoType, nil
	}
	return cty.NilType, fmt.Errorf("unknown attribute type %q", t)
}

// goValue converts a known, non-null value of ctyType(t) to the Go type
// sdk.Config holds. Its errors complete `The argument "x" ...`.
func goValue(t sdk.AttrType, v cty.Value) (any, error) {
	switch t {
	case sdk.String:
		return v.AsString(), nil
	case sdk.Number:
		f, _ := v.AsBigFloat().Float64()
		return f, nil
	case sdk.Bool:
		return v.True(), nil
	case sdk.StringList:
		out := make([]string, 0, v.LengthInt())
		for _, e := range v.AsValueSlice() {
			if e.IsNull() {
				return nil, fmt.Errorf("must not have null elements")
			}
			out = append(out, e.AsString())
		}
		return out, nil
	case sdk.Duration:
		return durationValue(v)
	}
	return nil, fmt.Errorf("has unknown type %q", t)
}
