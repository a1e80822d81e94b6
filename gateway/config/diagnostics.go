package config

import (
	"cmp"
	"io"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// diagnosticWidth is the width WriteDiagnostics wraps details at.
const diagnosticWidth = 100

// WriteDiagnostics prints diags as text: each with its file:line:col and,
// when files holds the file, the source lines it is about. There is no
// colour, so the output suits logs as well as terminals.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) error {
	return hcl.NewDiagnosticTextWriter(w, files, diagnosticWidth, false).WriteDiagnostics(diags)
}

// parseFile parses src as HCL native syntax.
func parseFile(filename string, src []byte) (*hcl.File, hcl.Diagnostics) {
	return hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
}

// sortDiagnostics puts diags in source order, those without a subject first,
// so that a report reads from the top of the file down however the decoder
// came across the problems.
func sortDiagnostics(diags hcl.Diagnostics) {
	slices.SortStableFunc(diags, func(a, b *hcl.Diagnostic) int {
		switch {
		case a.Subject == nil && b.Subject == nil:
			return 0
		case a.Subject == nil:
			return -1
		case b.Subject == nil:
			return 1
		}
		return cmp.Or(
			cmp.Compare(a.Subject.Filename, b.Subject.Filename),
			cmp.Compare(a.Subject.Start.Byte, b.Subject.Start.Byte),
		)
	})
}
