package config

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestNATSCluster(t *testing.T) {
	t.Setenv("LICENSEGW_TEST_ROUTE_PASSWORD", "0123456789abcdef0123")
	c, diags := Load(filepath.Join("testdata", "cluster", "valid.hcl"))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	got := c.NATS.Cluster
	if got == nil {
		t.Fatal("no cluster decoded")
	}
	want := NATSCluster{
		Name: "licensegw", Listen: "127.0.0.1:6232", Password: "0123456789abcdef0123", Advertise: "192.0.2.7:16232",
		Routes: []string{"nats-route://127.0.0.1:6222", "127.0.0.1:6232", " nats-route://127.0.0.1:6242 "},
	}
	if got.Name != want.Name || got.Listen != want.Listen || got.Password != want.Password || got.Advertise != want.Advertise || !slices.Equal(got.Routes, want.Routes) {
		t.Errorf("cluster = %+v, want %+v", *got, want)
	}
	if !c.NATS.Embedded || c.NATS.Replicas != DefaultClusterReplicas || c.NATS.Listen != "127.0.0.1:4232" {
		t.Errorf("nats = embedded %v, replicas %d, listen %s; want embedded, %d replicas by default",
			c.NATS.Embedded, c.NATS.Replicas, c.NATS.Listen, DefaultClusterReplicas)
	}
}

func TestNATSClusterInvalid(t *testing.T) {
	for _, tt := range []struct {
		file string
		want []want
	}{
		{"invalid_values.hcl", []want{
			{"Invalid replicas", 2, 14},
			{"Invalid cluster name", 4, 16},
			{"Invalid listen address", 5, 16},
			{"Invalid route", 6, 41},
			{"Invalid route", 6, 59},
			{"Duplicate route", 6, 65},
			{"Invalid route", 6, 76},
			{"Weak route password", 7, 16},
			{"Invalid advertise address", 8, 17},
		}},
		{"invalid_replicas.hcl", []want{
			{"Invalid replicas", 2, 14},
		}},
		{"invalid_url.hcl", []want{
			{"Conflicting NATS settings", 3, 3},
			{"Missing routes", 6, 14},
		}},
		{"invalid_missing.hcl", []want{
			{"Missing required argument", 2, 11},
			{"Missing required argument", 2, 11},
		}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "cluster", tt.file)
			_, diags := Load(path)
			var got []want
			for _, d := range diags {
				if d.Severity != hcl.DiagError || d.Subject == nil || d.Subject.Filename != path {
					t.Errorf("%s: severity %v, subject %v", d.Summary, d.Severity, d.Subject)
					continue
				}
				got = append(got, want{d.Summary, d.Subject.Start.Line, d.Subject.Start.Column})
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("diagnostics:\n%s\nwant:\n%s\ndetails:\n%s", formatWants(got), formatWants(tt.want), diags.Error())
			}
		})
	}
}
