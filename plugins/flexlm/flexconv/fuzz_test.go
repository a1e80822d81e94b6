package flexconv

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/licensegw/licensegw/plugins/flexlm/licfile"
	"github.com/licensegw/licensegw/plugins/flexlm/optfile"
)

// FuzzConvert checks that whatever the parsers accept converts without a
// crash into syntactically valid HCL.
func FuzzConvert(f *testing.F) {
	for _, c := range cases {
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
		r, _ := Convert(lf, of)
		var buf bytes.Buffer
		if err := WriteHCL(&buf, r); err != nil {
			t.Fatal(err)
		}
		if _, diags := hclsyntax.ParseConfig(buf.Bytes(), "out.hcl", hcl.InitialPos); diags.HasErrors() {
			t.Fatalf("invalid HCL: %v\n%s", diags, buf.String())
		}
	})
}
