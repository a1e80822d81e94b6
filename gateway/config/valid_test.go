package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/sdk"
)

// defaults is the Config of an empty file in dir.
func defaults(t *testing.T, file string) *Config {
	t.Helper()
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(abs)
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return &Config{
		File:    abs,
		Gateway: Gateway{Name: host, DataDir: filepath.Join(dir, "data"), LogLevel: "info", LogFormat: "text", ExpiryWarning: DefaultExpiryWarningDays * 24 * time.Hour},
		Admin:   Admin{Enabled: true, Listen: "127.0.0.1:7648", TokenFile: filepath.Join(dir, "data", "admin.token")},
		NATS: NATS{Embedded: true, Listen: "127.0.0.1:4222", Prefix: "licensegw", Stream: "LICENSEGW_EVENTS", Replicas: 1,
			AuditCredentials: filepath.Join(dir, "data", "nats-audit.nk")},
		Signing:    Signing{Enabled: true, KeyFile: filepath.Join(dir, "data", "signing.key")},
		Groups:     map[string][]string{},
		HostGroups: map[string][]string{},
	}
}

// feature is a feature with the defaults of a feature block.
func feature(name string, n int, edit func(*seats.Feature)) seats.Feature {
	f := seats.Feature{Vendor: "local", Name: name, Version: "1.0", Seats: n, LeaseTTL: 120 * time.Second}
	if edit != nil {
		edit(&f)
	}
	return f
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// TestValid loads each file of testdata/valid and the example, and compares
// every decoded value, defaults included.
func TestValid(t *testing.T) {
	t.Setenv("LICENSEGW_TEST_NAME", "gw-env")
	t.Setenv("LICENSEGW_TEST_NATS_HOST", "nats.example.com")
	t.Setenv("LICENSEGW_TEST_EMPTY", "")
	t.Setenv("LICENSEGW_TEST_SEATS", "7")
	t.Setenv("LICENSEGW_TEST_TTL", "3m")
	t.Setenv("LICENSEGW_TEST_UNSET", "") // empty counts as unset

	validDir, err := filepath.Abs(filepath.Join("testdata", "valid"))
	if err != nil {
		t.Fatal(err)
	}
	binDir := filepath.Join(filepath.Dir(validDir), "bin")

	tests := []struct {
		file string
		want func(c *Config)
	}{
		{"valid/minimal.hcl", func(c *Config) {}},
		{"valid/dates.hcl", func(c *Config) {
			c.Features = []seats.Feature{
				feature("leap_day", 1, func(f *seats.Feature) {
					f.Start = date(2024, 2, 29)
					f.Expiry = date(2024, 3, 1) // a date expiry is the end of that day
				}),
				feature("year_end", 1, func(f *seats.Feature) { f.Expiry = date(2028, 1, 1) }),
				feature("offset", 1, func(f *seats.Feature) {
					f.Start = time.Date(2026, 3, 1, 6, 30, 0, 0, time.UTC)
					f.Expiry = time.Date(2026, 3, 1, 23, 59, 59, 5e8, time.UTC)
				}),
				feature("permanent", 0, nil),
			}
		}},
		{"valid/env.hcl", func(c *Config) {
			c.Gateway.Name = "gw-env"
			c.Gateway.DataDir = "/var/lib/licensegw"
			c.Signing.KeyFile = "/var/lib/licensegw/signing.key"
			c.Admin.TokenFile = "/var/lib/licensegw/admin.token"
			c.NATS.Embedded = false
			c.NATS.Listen = ""
			c.NATS.URL = "nats://nats.example.com:4222"
			c.NATS.AuditCredentials = ""
			c.Features = []seats.Feature{feature("cad", 7, func(f *seats.Feature) {
				f.Vendor = "acme"
				f.LeaseTTL = 3 * time.Minute
			})}
		}},
		{"valid/nats_url.hcl", func(c *Config) {
			c.Admin = Admin{}
			c.NATS = NATS{
				URL:         "nats://nats-1:4222, tls://user:pw@nats-2:4222",
				Credentials: filepath.Join(validDir, "creds", "gateway.creds"),
				Prefix:      "acme.licensegw",
				Stream:      "ACME_EVENTS",
				Replicas:    3,
			}
			c.Signing = Signing{Enabled: false, KeyFile: "/etc/licensegw/key"}
		}},
		{"valid/admin_empty.hcl", func(c *Config) {
			c.Gateway.DataDir = "/srv/licensegw"
			c.Gateway.LogLevel = "trace"
			c.Gateway.LogFormat = "json"
			c.Signing.KeyFile = "/srv/licensegw/signing.key"
			c.Admin = Admin{}
			c.NATS.Listen = ""
			c.NATS.AuditCredentials = "/srv/licensegw/nats-audit.nk"
		}},
		{"valid/nats_auth.hcl", func(c *Config) {
			c.NATS.AuditCredentials = filepath.Join(validDir, "creds", "audit.nk")
			c.NATS.Identities = []NATSIdentity{
				{Name: "siem", NKey: "UDNRT2ROAVL64OGKZSRCOCBWVE4MEDSO3TAAMQA7BZ7X2HJG2H3IK7PQ"},
				{Name: "backup", NKey: "UBJQT66R2FIRJHXDNRZT7XAV5FIGTPXZB5QEDQPOJNPHQO77RP6VJAKX", Write: true},
			}
			c.NATS.TLS = TLS{CertFile: filepath.Join(validDir, "plugins.hcl"), KeyFile: filepath.Join(validDir, "plugins.hcl")}
		}},
		{"valid/durations.hcl", func(c *Config) {
			c.Features = []seats.Feature{
				feature("seconds", 1, func(f *seats.Feature) { f.LeaseTTL = 30 * time.Second }),
				feature("fraction", 1, func(f *seats.Feature) { f.LeaseTTL = 7500 * time.Millisecond }),
				feature("string_seconds", 1, func(f *seats.Feature) { f.LeaseTTL = 45 * time.Second }),
				feature("compound", 3, func(f *seats.Feature) {
					f.LeaseTTL = 90 * time.Minute
					f.Queue, f.MaxQueue = true, 100
					f.Borrow, f.MaxBorrow = true, 24*time.Hour
				}),
			}
		}},
		{"valid/policies.hcl", func(c *Config) {
			c.Groups = map[string][]string{"empty": {}}
			c.HostGroups = map[string][]string{"lab": {"ws-01"}}
			c.Features = []seats.Feature{
				feature("cad", 5, func(f *seats.Feature) {
					f.Reserve = []seats.Reservation{
						{Seats: 2, Who: seats.Subject{Kind: seats.HostGroup, Name: "lab"}},
						{Seats: 3, Who: seats.Subject{Kind: seats.Internet, Name: "10.1.*.*"}},
					}
					f.Max = []seats.Limit{
						{Seats: 0, Who: seats.Subject{Kind: seats.Group, Name: "empty"}},
						{Seats: 2, Who: seats.Subject{Kind: seats.Project, Name: "apollo"}},
					}
					f.Include = []seats.Subject{
						{Kind: seats.User, Name: "alice"},
						{Kind: seats.Display, Name: ":0"},
						{Kind: seats.Project, Name: "apollo"},
					}
					f.Exclude = []seats.Subject{{Kind: seats.Host, Name: "kiosk"}}
				}),
				feature("cad", 1, func(f *seats.Feature) { f.Version = "2.0" }),
				feature("cad", 1, func(f *seats.Feature) { f.Vendor = "other" }),
			}
		}},
		{"valid/plugins.hcl", func(c *Config) {
			c.Plugins = []Plugin{
				{
					Name:        "clm",
					Path:        filepath.Join(binDir, "licensegw-concurrentlm"),
					SHA256:      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
					Args:        []string{"-v", "--trace"},
					Listen:      map[string]string{"tcp": "0.0.0.0:1648", "udp": "[::1]:1648"},
					Enabled:     true,
					Allow:       []string{"10.0.0.0/8", "192.0.2.7", "fd00::/8", "::1"},
					StatusAllow: []string{"10.1.2.0/24"},
					GOMAXPROCS:  2,
				},
				{Name: "uninstalled", Path: "/nonexistent/licensegw-sentinel"},
			}
		}},
		{"example.hcl", func(c *Config) {
			dir := filepath.Dir(validDir)
			c.Gateway.Name = "gw-01"
			c.Signing.KeyFile = filepath.Join(dir, "data", "signing.key")
			c.Groups = map[string][]string{"designers": {"alice", "bob", "carol"}, "contractors": {"dave"}}
			c.HostGroups = map[string][]string{"lab": {"ws-01", "ws-02"}}
			c.Features = []seats.Feature{
				{
					Vendor: "acme", Name: "cad_pro", Version: "2024.1", Seats: 10,
					Start: date(2026, 1, 1), Expiry: date(2028, 1, 1), LeaseTTL: 120 * time.Second,
					Queue: true, MaxQueue: 20, MaxWait: 30 * time.Minute,
					Borrow: true, MaxBorrow: 72 * time.Hour,
					Description: "CAD, professional edition",
					Reserve:     []seats.Reservation{{Seats: 2, Who: seats.Subject{Kind: seats.Group, Name: "designers"}}},
					Max:         []seats.Limit{{Seats: 1, Who: seats.Subject{Kind: seats.User, Name: "dave"}}},
					Include: []seats.Subject{
						{Kind: seats.Group, Name: "designers"},
						{Kind: seats.Group, Name: "contractors"},
						{Kind: seats.HostGroup, Name: "lab"},
					},
					Exclude: []seats.Subject{
						{Kind: seats.User, Name: "mallory"},
						{Kind: seats.Host, Name: "kiosk-01"},
						{Kind: seats.Display, Name: ":99"},
						{Kind: seats.Internet, Name: "192.168.77.*"},
						{Kind: seats.Project, Name: "legacy"},
					},
				},
				feature("cad_viewer", 50, func(f *seats.Feature) { f.LeaseTTL = 5 * time.Minute }),
			}
			c.Plugins = []Plugin{
				{
					Name:    "concurrentlm",
					Path:    filepath.Join(binDir, "licensegw-concurrentlm"),
					SHA256:  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
					Args:    []string{"-v"},
					Listen:  map[string]string{"tcp": ":1648", "udp": ":1648"},
					Enabled: true,
				},
				{Name: "flexlm", Path: filepath.Join(binDir, "licensegw-flexlm")},
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			got, diags := Load(path)
			if len(diags) > 0 {
				t.Fatalf("Load(%s): %s", path, diags.Error())
			}
			want := defaults(t, path)
			tt.want(want)

			// The parts that are not plain values are checked on their own.
			if got.Files()[path] == nil {
				t.Errorf("Files() lacks %s", path)
			}
			for i := range got.Plugins {
				p := &got.Plugins[i]
				if p.Config == nil {
					t.Errorf("plugin %s: nil Config body", p.Name)
				}
				if p.DeclRange.Filename != path || p.DeclRange.Start.Line == 0 {
					t.Errorf("plugin %s: DeclRange %v", p.Name, p.DeclRange)
				}
				p.Config, p.DeclRange = nil, want.Plugins[i].DeclRange
			}
			for i := range got.NATS.Identities {
				if got.NATS.Identities[i].DeclRange.Start.Line == 0 {
					t.Errorf("identity %s: no DeclRange", got.NATS.Identities[i].Name)
				}
				got.NATS.Identities[i].DeclRange = hcl.Range{}
			}
			got.files, got.shownDir, got.featureRanges = nil, "", nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load(%s) =\n%+v\nwant\n%+v", path, got, want)
			}
			// Engine hands over the features, groups and host groups.
			eng := got.Engine()
			if !reflect.DeepEqual(eng, seats.Config{Features: want.Features, Groups: want.Groups, HostGroups: want.HostGroups}) {
				t.Errorf("Engine() = %+v", eng)
			}
		})
	}
}

// TestExamplePluginConfig decodes the example's plugin block with a schema,
// as the plugin host will.
func TestExamplePluginConfig(t *testing.T) {
	t.Setenv("LICENSEGW_GREETING", "")
	c, diags := Load(filepath.Join("testdata", "example.hcl"))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	schema := sdk.Schema{{Name: "greeting", Type: sdk.String, Required: true}}
	pc, diags := DecodePluginConfig(c.Plugins[0].Config, schema)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if got := pc.String("greeting", ""); got != "welcome" {
		t.Errorf("greeting = %q, want the env() default %q", got, "welcome")
	}
	// The disabled plugin has no config block: an empty body.
	pc, diags = DecodePluginConfig(c.Plugins[1].Config, sdk.Schema{{Name: "port", Type: sdk.Number}})
	if diags.HasErrors() || len(pc.Values()) != 0 {
		t.Errorf("empty block: %v, %v", pc.Values(), diags)
	}
}

// TestEngineCopies checks that changing the engine's copy leaves the
// Config alone.
func TestEngineCopies(t *testing.T) {
	c, diags := Load(filepath.Join("testdata", "example.hcl"))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	eng := c.Engine()
	eng.Features[0].Seats = 99
	eng.Groups["intruders"] = []string{"eve"}
	if c.Features[0].Seats != 10 || c.Groups["intruders"] != nil {
		t.Error("Engine() shares its slices or maps with the Config")
	}
}
