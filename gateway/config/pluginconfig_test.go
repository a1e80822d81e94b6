package config

import (
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/licensegw/licensegw/sdk"
)

// pluginBody parses a plugin block with the given config { } contents (or
// none when body is "-") and returns its Config body.
func pluginBody(t *testing.T, body string) hcl.Body {
	t.Helper()
	src := "plugin \"p\" {\n  path    = \"x\"\n  enabled = false\n"
	if body != "-" {
		src += "  config {\n" + body + "  }\n"
	}
	src += "}\n"
	c, diags := Parse("plugin.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatalf("Parse: %s", diags.Error())
	}
	return c.Plugins[0].Config
}

var testSchema = sdk.Schema{
	{Name: "name", Type: sdk.String, Required: true},
	{Name: "port", Type: sdk.Number},
	{Name: "ratio", Type: sdk.Number},
	{Name: "verbose", Type: sdk.Bool},
	{Name: "hosts", Type: sdk.StringList},
	{Name: "timeout", Type: sdk.Duration},
	{Name: "grace", Type: sdk.Duration},
	{Name: "idle", Type: sdk.Duration},
}

func TestDecodePluginConfig(t *testing.T) {
	t.Setenv("LICENSEGW_TEST_PLUGIN", "from-env")
	tests := []struct {
		name   string
		body   string
		schema sdk.Schema
		values map[string]any // when no errors are expected
		errs   []want
	}{
		{
			name: "every type",
			body: `    name    = "clm"
    port    = 1648
    ratio   = 0.25
    verbose = true
    hosts   = ["a", "b"]
    timeout = "90s"
    grace   = 30
    idle    = "2.5"
`,
			values: map[string]any{
				"name": "clm", "port": 1648.0, "ratio": 0.25, "verbose": true,
				"hosts": []string{"a", "b"}, "timeout": 90 * time.Second,
				"grace": 30 * time.Second, "idle": 2500 * time.Millisecond,
			},
		},
		{
			name: "conversions and env",
			body: `    name    = env("LICENSEGW_TEST_PLUGIN")
    port    = "27000"
    verbose = "false"
    hosts   = []
`,
			values: map[string]any{"name": "from-env", "port": 27000.0, "verbose": false, "hosts": []string{}},
		},
		{
			name:   "null is absent",
			body:   "    name = \"x\"\n    port = null\n",
			values: map[string]any{"name": "x"},
		},
		{
			name:   "empty schema, empty block",
			body:   "",
			schema: sdk.Schema{},
			values: map[string]any{},
		},
		{
			name: "unknown attribute",
			body: "    name = \"x\"\n    prot = 1648\n",
			errs: []want{{"Unsupported argument", 6, 5}},
		},
		{
			name: "unknown block",
			body: "    name = \"x\"\n    tls {\n    }\n",
			errs: []want{{"Unsupported block type", 6, 5}},
		},
		{
			name: "missing required in a block",
			body: "    port = 1\n",
			errs: []want{{"Missing required argument", 4, 10}},
		},
		{
			name: "missing required without a block",
			body: "-",
			errs: []want{{"Missing required argument", 1, 1}},
		},
		{
			name: "required null",
			body: "    name = null\n",
			errs: []want{{"Null value", 5, 12}},
		},
		{
			name: "wrong types",
			body: "    name = [\"x\"]\n    port = \"many\"\n    verbose = 3\n    hosts = \"a\"\n",
			errs: []want{
				{"Incorrect attribute value type", 5, 12},
				{"Incorrect attribute value type", 6, 12},
				{"Incorrect attribute value type", 7, 15},
				{"Incorrect attribute value type", 8, 13},
			},
		},
		{
			name: "bad durations",
			body: "    name = \"x\"\n    timeout = \"soon\"\n    grace = -1\n    idle = true\n",
			errs: []want{
				{"Invalid duration", 6, 15},
				{"Invalid duration", 7, 13},
				{"Invalid duration", 8, 12},
			},
		},
		{
			name: "null list element",
			body: "    name = \"x\"\n    hosts = [\"a\", null]\n",
			errs: []want{{"Invalid value", 6, 13}},
		},
		{
			name:   "schema bug",
			body:   "",
			schema: sdk.Schema{{Name: "a", Type: "map"}, {Name: "", Type: sdk.String}, {Name: "b", Type: sdk.Bool}, {Name: "b", Type: sdk.Bool}},
			errs: []want{
				{"Invalid plugin schema", 4, 10},
				{"Invalid plugin schema", 4, 10},
				{"Invalid plugin schema", 4, 10},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			schema := tt.schema
			if schema == nil {
				schema = testSchema
			}
			cfg, diags := DecodePluginConfig(pluginBody(t, tt.body), schema)
			var got []want
			for _, d := range diags {
				if d.Subject == nil {
					t.Errorf("%s: no subject", d.Summary)
					continue
				}
				if d.Subject.Filename != "plugin.hcl" {
					t.Errorf("%s: subject in %q", d.Summary, d.Subject.Filename)
				}
				got = append(got, want{d.Summary, d.Subject.Start.Line, d.Subject.Start.Column})
			}
			if !reflect.DeepEqual(got, tt.errs) {
				t.Fatalf("diagnostics:\n%s\nwant:\n%s\n%s", formatWants(got), formatWants(tt.errs), diags.Error())
			}
			if tt.errs == nil && !reflect.DeepEqual(cfg.Values(), tt.values) {
				t.Errorf("values = %#v, want %#v", cfg.Values(), tt.values)
			}
		})
	}
}

// TestDecodePluginConfigNilBody checks that a nil body is an empty one.
func TestDecodePluginConfigNilBody(t *testing.T) {
	cfg, diags := DecodePluginConfig(nil, sdk.Schema{{Name: "port", Type: sdk.Number}})
	if diags.HasErrors() || cfg.Has("port") {
		t.Errorf("got %v, %v", cfg.Values(), diags)
	}
}
