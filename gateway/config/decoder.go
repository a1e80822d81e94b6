package config

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// decoder turns HCL bodies into typed values. It collects every diagnostic
// rather than stopping at the first, so that one run of the loader reports
// all the mistakes of a file.
type decoder struct {
	dir   string // the configuration file's directory, absolute
	shown string // the same directory as the file was named to Parse, for diagnostics
	ctx   *hcl.EvalContext
	diags hcl.Diagnostics
}

func (d *decoder) append(diags hcl.Diagnostics) { d.diags = append(d.diags, diags...) }

// errorf records an error whose subject is rng.
func (d *decoder) errorf(rng hcl.Range, summary, format string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  rng.Ptr(),
	})
}

// content applies schema to body. The content is never nil, so callers can go
// on decoding what is there after an error.
func (d *decoder) content(body hcl.Body, schema *hcl.BodySchema) *hcl.BodyContent {
	c, diags := body.Content(schema)
	d.append(diags)
	if c == nil {
		c = &hcl.BodyContent{Attributes: hcl.Attributes{}, MissingItemRange: body.MissingItemRange()}
	}
	return c
}

// single returns the only block of type typ, or nil when there is none. Later
// blocks of the same type are reported as duplicates.
func (d *decoder) single(blocks hcl.Blocks, typ string) *hcl.Block {
	var first *hcl.Block
	for _, b := range blocks {
		if b.Type != typ {
			continue
		}
		if first != nil {
			d.errorf(b.DefRange, "Duplicate "+typ+" block",
				"Only one %s block is allowed here; the first is at %s.", typ, first.DefRange)
			continue
		}
		first = b
	}
	return first
}

// value evaluates attr and converts it to ty. It reports false, having
// recorded why, when the expression fails, is null or has the wrong type.
func (d *decoder) value(attr *hcl.Attribute, ty cty.Type) (cty.Value, bool) {
	v, diags := attr.Expr.Value(d.ctx)
	d.append(diags)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	if v.IsNull() {
		d.errorf(attr.Expr.Range(), "Null value",
			"The argument %q must not be null; leave it out to use its default.", attr.Name)
		return cty.NilVal, false
	}
	if !v.IsWhollyKnown() {
		d.errorf(attr.Expr.Range(), "Unknown value", "The value of %q is not known.", attr.Name)
		return cty.NilVal, false
	}
	if ty == cty.DynamicPseudoType {
		return v, true
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		d.errorf(attr.Expr.Range(), "Incorrect attribute value type",
			"Inappropriate value for attribute %q: %s.", attr.Name, err)
		return cty.NilVal, false
	}
	return cv, true
}

// str decodes the string attribute name of attrs into dst, which keeps its
// default when the attribute is absent or invalid. It reports whether the
// attribute was set and valid.
func (d *decoder) str(attrs hcl.Attributes, name string, dst *string) bool {
	attr, ok := attrs[name]
	if !ok {
		return false
	}
	v, ok := d.value(attr, cty.String)
	if !ok {
		return false
	}
	*dst = v.AsString()
	return true
}

// boolean decodes a bool attribute like str.
func (d *decoder) boolean(attrs hcl.Attributes, name string, dst *bool) bool {
	attr, ok := attrs[name]
	if !ok {
		return false
	}
	v, ok := d.value(attr, cty.Bool)
	if !ok {
		return false
	}
	*dst = v.True()
	return true
}

// integer decodes a whole-number attribute like str.
func (d *decoder) integer(attrs hcl.Attributes, name string, dst *int) bool {
	attr, ok := attrs[name]
	if !ok {
		return false
	}
	v, ok := d.value(attr, cty.Number)
	if !ok {
		return false
	}
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		d.errorf(attr.Expr.Range(), "Invalid number", "The argument %q must be a whole number.", name)
		return false
	}
	i, acc := bf.Int64()
	if acc != big.Exact || i > math.MaxInt32 || i < math.MinInt32 {
		d.errorf(attr.Expr.Range(), "Invalid number", "The argument %q is out of range.", name)
		return false
	}
	*dst = int(i)
	return true
}

// size decodes a byte count like str: a whole number of bytes, or a string
// of one with a unit ("512MiB", "10GiB", "1TB"). Negative sizes are errors.
func (d *decoder) size(attrs hcl.Attributes, name string, dst *int64) bool {
	return decodeWith(d, attrs, name, "Invalid size", sizeValue, dst)
}

// decodeWith decodes the attribute name with conv, whose errors complete the
// sentence `The argument "x" ...`, reported under summary.
func decodeWith[T any](d *decoder, attrs hcl.Attributes, name, summary string, conv func(cty.Value) (T, error), dst *T) bool {
	attr, ok := attrs[name]
	if !ok {
		return false
	}
	v, ok := d.value(attr, cty.DynamicPseudoType)
	if !ok {
		return false
	}
	x, err := conv(v)
	if err != nil {
		d.errorf(attr.Expr.Range(), summary, "The argument %q %s.", name, err)
		return false
	}
	*dst = x
	return true
}

// sizeUnits are the units sizeValue accepts, longest first.
var sizeUnits = []struct {
	suffix string
	factor int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

// sizeValue converts a known, non-null value to a byte count. Its errors
// complete the sentence `The argument "x" ...`.
func sizeValue(v cty.Value) (int64, error) {
	const want = `must be a number of bytes or a size such as "512MiB" or "10GB"`
	var digits string
	factor := int64(1)
	switch v.Type() {
	case cty.Number:
		digits = v.AsBigFloat().Text('f', -1)
	case cty.String:
		digits = strings.TrimSpace(v.AsString())
		for _, u := range sizeUnits {
			if strings.HasSuffix(digits, u.suffix) {
				digits, factor = strings.TrimSpace(strings.TrimSuffix(digits, u.suffix)), u.factor
				break
			}
		}
	default:
		return 0, errors.New(want)
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/factor {
		return 0, fmt.Errorf("%s; %s is not", want, v.GoString())
	}
	return n * factor, nil
}

// strings decodes a list(string) attribute like str.
func (d *decoder) strings(attrs hcl.Attributes, name string, dst *[]string) bool {
	attr, ok := attrs[name]
	if !ok {
		return false
	}
	v, ok := d.value(attr, cty.List(cty.String))
	if !ok {
		return false
	}
	out := make([]string, 0, v.LengthInt())
	for i, e := range v.AsValueSlice() {
		if e.IsNull() {
			d.errorf(elemRange(attr.Expr, i), "Null value", "The elements of %q must not be null.", name)
			return false
		}
		out = append(out, e.AsString())
	}
	*dst = out
	return true
}

// stringMap decodes a map(string) attribute like str.
func (d *decoder) stringMap(attrs hcl.Attributes, name string, dst *map[string]string) bool {
	attr, ok := attrs[name]
	if !ok {
		return false
	}
	v, ok := d.value(attr, cty.Map(cty.String))
	if !ok {
		return false
	}
	out := make(map[string]string, v.LengthInt())
	for k, e := range v.AsValueMap() {
		if e.IsNull() {
			d.errorf(mapValueRange(attr.Expr, d.ctx, k), "Null value", "The values of %q must not be null.", name)
			return false
		}
		out[k] = e.AsString()
	}
	*dst = out
	return true
}

// duration decodes a duration attribute like str: a Go duration string
// ("90s", "1h30m") or a number of seconds. Negative durations are errors.
func (d *decoder) duration(attrs hcl.Attributes, name string, dst *time.Duration) bool {
	return decodeWith(d, attrs, name, "Invalid duration", durationValue, dst)
}

// durationValue converts a known, non-null value to a duration. Its errors
// complete the sentence `The argument "x" ...`.
func durationValue(v cty.Value) (time.Duration, error) {
	var dur time.Duration
	switch v.Type() {
	case cty.String:
		var err error
		dur, err = time.ParseDuration(v.AsString())
		if err != nil {
			// A string of a number is seconds too, because env() can
			// only give strings.
			n, nerr := convert.Convert(v, cty.Number)
			if nerr != nil {
				return 0, fmt.Errorf(`must be a duration such as "90s", "5m" or "1h30m", or a number of seconds; %q is not`, v.AsString())
			}
			return durationValue(n)
		}
	case cty.Number:
		secs, _ := v.AsBigFloat().Float64()
		if math.IsInf(secs, 0) || math.Abs(secs) > float64(math.MaxInt64)/float64(time.Second) {
			return 0, fmt.Errorf("is out of range")
		}
		dur = time.Duration(secs * float64(time.Second))
	default:
		return 0, fmt.Errorf(`must be a duration string such as "90s" or a number of seconds, not a %s`, v.Type().FriendlyName())
	}
	if dur < 0 {
		return 0, fmt.Errorf("must not be negative")
	}
	return dur, nil
}

// path resolves a file path relative to the configuration's directory.
// shownPath is how diagnostics name the file at p, relative to the
// configuration file as it was named (examples/licenses/acme.lic, not the
// absolute path), like the configuration file itself.
func (d *decoder) shownPath(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(d.shown, p)
}

func (d *decoder) path(p string) string {
	if p == "" {
		return ""
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(d.dir, p)
}

// elemRange is the range of the i-th element of a list literal, or of the
// whole expression when it is not a literal, so that an error about one
// element points at that element.
func elemRange(expr hcl.Expression, i int) hcl.Range {
	if t, ok := expr.(*hclsyntax.TupleConsExpr); ok && i >= 0 && i < len(t.Exprs) {
		return t.Exprs[i].Range()
	}
	return expr.Range()
}

// mapValueRange is the range of the value of key in an object literal, or of
// the whole expression when it cannot be found.
func mapValueRange(expr hcl.Expression, ctx *hcl.EvalContext, key string) hcl.Range {
	if o, ok := expr.(*hclsyntax.ObjectConsExpr); ok {
		for _, item := range o.Items {
			k, diags := item.KeyExpr.Value(ctx)
			if diags.HasErrors() || k.IsNull() || !k.IsKnown() {
				continue
			}
			if k, err := convert.Convert(k, cty.String); err == nil && k.AsString() == key {
				return item.ValueExpr.Range()
			}
		}
	}
	return expr.Range()
}
