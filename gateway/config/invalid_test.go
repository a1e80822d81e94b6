package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// want is one expected diagnostic: its summary and where its subject starts.
type want struct {
	summary   string
	line, col int
}

// TestInvalid loads each broken file of testdata/invalid and checks that it
// reports exactly the expected errors, in source order, at the expected
// positions.
func TestInvalid(t *testing.T) {
	tests := []struct {
		file string
		want []want
	}{
		{"dates.hcl", []want{
			{"Invalid date", 3, 11},
			{"Invalid date", 8, 12},
			{"Expiry before start", 14, 12},
			{"Expiry before start", 20, 12},
			{"Invalid date", 25, 11},
			{"Invalid date", 30, 12},
		}},
		{"duplicates.hcl", []want{
			{"Duplicate gateway block", 5, 1},
			{"Duplicate group", 13, 7},
			{"Duplicate host_group", 21, 12},
			{"Duplicate feature", 29, 1},
			{"Duplicate queue block", 39, 3},
			{"Duplicate plugin", 47, 8},
		}},
		{"durations.hcl", []want{
			{"Lease TTL too short", 3, 15},
			{"Invalid duration", 8, 15},
			{"Invalid duration", 13, 15},
			{"Invalid queue length", 19, 18},
			{"Invalid maximum wait", 20, 18},
			{"Missing required argument", 26, 10},
			{"Invalid duration", 32, 15},
		}},
		{"env.hcl", []want{
			{"Not enough function arguments", 2, 14},
			{"Invalid function argument", 6, 27},
			{"Call to unknown function", 10, 11},
		}},
		{"names.hcl", []want{
			{"Invalid gateway name", 2, 15},
			{"Invalid log level", 3, 15},
			{"Invalid data directory", 4, 15},
			{"Invalid log format", 5, 16},
			{"Invalid listen address", 9, 12},
			{"Invalid feature name", 12, 9},
			{"Invalid vendor name", 17, 12},
		}},
		{"nats_conflict.hcl", []want{
			{"Conflicting NATS settings", 2, 14},
		}},
		{"nats_nourl.hcl", []want{
			{"Missing NATS URL", 2, 14},
		}},
		{"nats_values.hcl", []want{
			{"Invalid listen address", 2, 14},
			{"Invalid replicas", 3, 14},
			{"Invalid subject prefix", 4, 14},
			{"Invalid stream name", 5, 14},
			{"Invalid max_msgs", 6, 14},
		}},
		{"nats_auth.hcl", []want{
			{"Reserved identity name", 2, 12},
			{"Invalid nkey", 7, 14},
			{"Invalid access", 12, 14},
			{"Duplicate identity", 18, 12},
			{"Missing required argument", 22, 20},
		}},
		{"nats_url_auth.hcl", []want{
			{"Identity without the embedded server", 3, 3},
		}},
		{"plugins.hcl", []want{
			{"Invalid checksum", 3, 12},
			{"Invalid listen address", 6, 11},
			{"Plugin executable not found", 11, 10},
			{"Plugin executable not found", 15, 10},
			{"Plugin not executable", 19, 10},
			{"Invalid plugin name", 22, 8},
			{"Missing required argument", 27, 18},
			{"Invalid allow entry", 33, 33},
			{"Invalid allow entry", 33, 47},
			{"Invalid allow entry", 33, 56},
			{"Empty status_allow list", 34, 18},
			{"Invalid allow entry", 40, 5},
			{"Invalid allow entry", 41, 5},
			{"Incorrect attribute value type", 43, 18},
			{"Invalid gomaxprocs", 48, 16},
			{"Invalid gomaxprocs", 53, 16},
			{"Invalid number", 58, 16},
			{"Incorrect attribute value type", 63, 16},
		}},
		{"policies.hcl", []want{
			{"Missing subject", 8, 3},
			{"Too many subjects", 15, 5},
			{"Invalid seat count", 19, 13},
			{"Too many reserved seats", 29, 13},
			{"Invalid seat count", 34, 13},
			{"Undefined group", 40, 13},
			{"Invalid user", 44, 29},
			{"Undefined host group", 45, 20},
			{"Invalid internet pattern", 49, 29},
			{"Invalid internet pattern", 49, 43},
			{"Empty exclude block", 52, 3},
		}},
		{"seats.hcl", []want{
			{"Invalid seat count", 2, 11},
			{"Invalid number", 6, 11},
			{"Missing required argument", 9, 19},
			{"Incorrect attribute value type", 14, 11},
			{"Null value", 18, 11},
		}},
		{"syntax.hcl", []want{
			{"Invalid expression", 2, 10},
		}},
		{"unknown.hcl", []want{
			{"Unsupported argument", 2, 3},
			{"Unsupported block type", 5, 1},
			{"Unsupported argument", 12, 5},
		}},
		{"versions.hcl", []want{
			{"Invalid version", 3, 13},
			{"Invalid version", 8, 13},
			{"Invalid version", 13, 13},
		}},
	}
	covered := make(map[string]bool)
	for _, tt := range tests {
		covered[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "invalid", tt.file)
			c, diags := Load(path)
			if c == nil || c.Files()[path] == nil {
				t.Fatalf("Load(%s) kept no parsed file for printing diagnostics", path)
			}
			var got []want
			for _, d := range diags {
				if d.Severity != hcl.DiagError {
					t.Errorf("%s: severity %v, want error", d.Summary, d.Severity)
				}
				if d.Subject == nil {
					t.Errorf("%s: no subject", d.Summary)
					continue
				}
				if d.Subject.Filename != path {
					t.Errorf("%s: subject in %q, want %q", d.Summary, d.Subject.Filename, path)
				}
				got = append(got, want{d.Summary, d.Subject.Start.Line, d.Subject.Start.Column})
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("diagnostics:\n%s\nwant:\n%s\ndetails:\n%s", formatWants(got), formatWants(tt.want), diags.Error())
			}
		})
	}
	// Every file in testdata/invalid must be in the table.
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s is not tested", f)
		}
	}
}

func formatWants(ws []want) string {
	var sb strings.Builder
	for _, w := range ws {
		fmt.Fprintf(&sb, "\t%d:%d %s\n", w.line, w.col, w.summary)
	}
	return sb.String()
}
