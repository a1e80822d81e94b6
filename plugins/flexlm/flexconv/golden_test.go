package flexconv_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/internal/golden"
	"github.com/licensegw/licensegw/plugins/flexlm/flexconv"
)

// TestGoldenHCL: what `licensegw import flexlm` prints for the corpus, the
// conversion written by the gateway's one HCL writer.
func TestGoldenHCL(t *testing.T) {
	for _, c := range flexconv.GoldenCases() {
		t.Run(c.Name, func(t *testing.T) {
			lf, of := flexconv.LoadPair(t, c.Lic, c.Opt)
			r, diags := flexconv.Convert(lf, of)
			var buf bytes.Buffer
			if err := config.WriteHCL(&buf, r.Set(), r.Sources, flexconv.Notes(diags)); err != nil {
				t.Fatal(err)
			}
			if _, diags := hclsyntax.ParseConfig(buf.Bytes(), c.Name+".hcl", hcl.InitialPos); diags.HasErrors() {
				t.Fatalf("output is not valid HCL: %v\n%s", diags, buf.String())
			}
			golden.Check(t, filepath.Join("testdata", c.Name+".hcl"), buf.Bytes(), golden.ModeOf(*flexconv.Update, *flexconv.Accept))
		})
	}
}
