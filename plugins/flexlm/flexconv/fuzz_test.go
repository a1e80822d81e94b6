package flexconv_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"reflect"

	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/plugins/flexlm/flexconv"
	"github.com/licensegw/licensegw/plugins/flexlm/licfile"
	"github.com/licensegw/licensegw/plugins/flexlm/optfile"
)

// fuzzSeeds are the licence and options files (under ../testdata) the
// fuzzer starts from.
var fuzzSeeds = []struct{ lic, opt string }{
	{"corpus/spec.lic", "corpus/spec.opt"},
	{"sample/acme.lic", "sample/acme.opt"},
	{"corpus/crlf.lic", "corpus/crlf.opt"},
	{"corpus/pooling.lic", "corpus/options_odd.opt"},
	{"corpus/year0.lic", ""},
	{"corpus/duplicates.lic", ""},
	{"corpus/quoted.lic", ""},
	{"corpus/longcont.lic", ""},
	{"corpus/uncounted.lic", ""},
	{"corpus/tabs.lic", ""},
	{"", "corpus/spec.opt"},
}

// FuzzConvert checks that whatever the parsers accept converts without a
// crash into HCL that the gateway's configuration parser accepts and decodes
// to the very features, groups and host groups Convert made (the round trip
// of TestHCLDecodesToTheSameFeatures, on any input).
func FuzzConvert(f *testing.F) {
	for _, c := range fuzzSeeds {
		var lic, opt []byte
		if c.lic != "" {
			lic, _ = os.ReadFile(filepath.Join("..", "testdata", c.lic))
		}
		if c.opt != "" {
			opt, _ = os.ReadFile(filepath.Join("..", "testdata", c.opt))
		}
		f.Add(lic, opt)
	}
	f.Fuzz(func(t *testing.T, lic, opt []byte) {
		lf, _ := licfile.Parse("f.lic", lic)
		of, _ := optfile.Parse("f.opt", opt)
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
			t.Fatalf("decoded %d features, converted %d:\n%s", len(got.Features), len(r.Features), buf.String())
		}
		for i, want := range r.Features {
			if g := comparable(got.Features[i]); !reflect.DeepEqual(g, comparable(want)) {
				t.Fatalf("feature %d decodes to\n%+v\nwant\n%+v\n%s", i, g, comparable(want), buf.String())
			}
		}
		for name, members := range r.Groups {
			if len(members) > 0 && !reflect.DeepEqual(got.Groups[name], members) {
				t.Fatalf("group %s = %v, want %v", name, got.Groups[name], members)
			}
		}
		for name, members := range r.HostGroups {
			if len(members) > 0 && !reflect.DeepEqual(got.HostGroups[name], members) {
				t.Fatalf("host group %s = %v, want %v", name, got.HostGroups[name], members)
			}
		}
	})
}
