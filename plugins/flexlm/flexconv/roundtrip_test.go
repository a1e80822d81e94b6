package flexconv_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/plugins/flexlm/flexconv"
	"github.com/licensegw/licensegw/plugins/flexlm/licfile"
	"github.com/licensegw/licensegw/plugins/flexlm/optfile"
	"github.com/licensegw/licensegw/sdk/policy"
)

// TestHCLDecodesToTheSameFeatures checks the contract with the gateway's
// configuration: what WriteHCL prints decodes to the features Convert made.
func TestHCLDecodesToTheSameFeatures(t *testing.T) {
	pairs := [][2]string{
		{"corpus/spec.lic", "corpus/spec.opt"},
		{"sample/acme.lic", "sample/acme.opt"},
		{"corpus/crlf.lic", "corpus/crlf.opt"},
		{"corpus/pooling.lic", "corpus/options_odd.opt"},
		{"corpus/year0.lic", ""},
		{"corpus/quoted.lic", ""},
		{"corpus/longcont.lic", ""},
		{"corpus/tabs.lic", ""},
	}
	for _, p := range pairs {
		t.Run(filepath.Base(p[0]), func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("..", "testdata", p[0]))
			if err != nil {
				t.Fatal(err)
			}
			lf, err := licfile.Parse(p[0], src)
			if err != nil {
				t.Fatal(err)
			}
			var of *optfile.File
			if p[1] != "" {
				osrc, err := os.ReadFile(filepath.Join("..", "testdata", p[1]))
				if err != nil {
					t.Fatal(err)
				}
				if of, err = optfile.Parse(p[1], osrc); err != nil {
					t.Fatal(err)
				}
			}
			r, notes := flexconv.Convert(lf, of)
			var buf bytes.Buffer
			if err := config.WriteHCL(&buf, r.Set(), r.Sources, flexconv.Notes(notes)); err != nil {
				t.Fatal(err)
			}
			cfg, diags := config.Parse("import.hcl", buf.Bytes())
			if diags.HasErrors() {
				t.Fatalf("gateway/config rejects the output: %v\n%s", diags, buf.String())
			}
			got := cfg.Engine()
			if len(got.Features) != len(r.Features) {
				t.Fatalf("decoded %d features, converted %d", len(got.Features), len(r.Features))
			}
			for i, want := range r.Features {
				if g := comparable(got.Features[i]); !reflect.DeepEqual(g, comparable(want)) {
					t.Errorf("feature %d decodes to\n%+v\nwant\n%+v", i, g, comparable(want))
				}
			}
			for name, members := range r.Groups {
				if len(members) > 0 && !reflect.DeepEqual(got.Groups[name], members) {
					t.Errorf("group %s = %v, want %v", name, got.Groups[name], members)
				}
			}
			for name, members := range r.HostGroups {
				if len(members) > 0 && !reflect.DeepEqual(got.HostGroups[name], members) {
					t.Errorf("host group %s = %v, want %v", name, got.HostGroups[name], members)
				}
			}
		})
	}
}

// comparable keeps the fields the import sets (the configuration fills
// defaults such as the lease TTL on its own) in a canonical order.
func comparable(f policy.Feature) policy.Feature {
	return policy.Feature{
		Vendor: f.Vendor, Name: f.Name, Version: f.Version, Seats: f.Seats,
		Start: f.Start.UTC(), Expiry: f.Expiry.UTC(), Queue: f.Queue, Borrow: f.Borrow, MaxBorrow: f.MaxBorrow,
		Description: f.Description, Reserve: f.Reserve, Max: f.Max,
		Include: byKind(f.Include), Exclude: byKind(f.Exclude),
	}
}

// byKind orders subjects as WriteHCL groups them; nil and empty alike.
func byKind(s []policy.Subject) []policy.Subject {
	var out []policy.Subject
	for _, k := range []policy.SubjectKind{policy.User, policy.Host, policy.Group, policy.HostGroup, policy.Display, policy.Internet, policy.Project} {
		for _, x := range s {
			if x.Kind == k {
				out = append(out, x)
			}
		}
	}
	return out
}
