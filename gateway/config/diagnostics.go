package config

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// diagnosticWidth is the width WriteDiagnostics wraps details at.
const diagnosticWidth = 100

// WriteDiagnostics prints diags as text, compiler style: each starts with
// file:line:col, then the source line with a caret under the column (when
// files holds the file), then the detail wrapped at diagnosticWidth. There
// is no colour, so the output suits logs as well as terminals, and editors
// and CI annotators can jump to the position.
//
//	config.hcl:12:5: error: Invalid seat count
//	   12 |     seats = -1
//	      |     ^
//	  A feature's seats must be zero or more.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) error {
	var b strings.Builder
	for _, d := range diags {
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		if d.Subject == nil {
			fmt.Fprintf(&b, "%s: %s\n", sev, d.Summary)
		} else {
			r := d.Subject
			fmt.Fprintf(&b, "%s:%d:%d: %s: %s\n", r.Filename, r.Start.Line, r.Start.Column, sev, d.Summary)
			if line, ok := sourceLine(files[r.Filename], r.Start.Line); ok {
				fmt.Fprintf(&b, "%6d | %s\n", r.Start.Line, line)
				fmt.Fprintf(&b, "%6s | %s^\n", "", caretPad(line, r.Start.Column))
			}
		}
		if d.Detail != "" {
			for _, l := range wrap(d.Detail, diagnosticWidth-2) {
				fmt.Fprintf(&b, "  %s\n", l)
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// sourceLine returns line n (1-based) of f, without its line ending.
func sourceLine(f *hcl.File, n int) (string, bool) {
	if f == nil || n < 1 {
		return "", false
	}
	lines := strings.Split(string(f.Bytes), "\n")
	if n > len(lines) {
		return "", false
	}
	return strings.TrimRight(lines[n-1], "\r"), true
}

// caretPad is the space before a caret under column col (1-based, counted
// in characters): tabs are kept so the caret lines up however tabs render.
func caretPad(line string, col int) string {
	var b strings.Builder
	for i, r := range []rune(line) {
		if i >= col-1 {
			break
		}
		if r == '\t' {
			b.WriteRune('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// wrap splits text into lines of at most width characters at spaces.
func wrap(text string, width int) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			switch {
			case line == "":
				line = word
			case len(line)+1+len(word) > width:
				out = append(out, line)
				line = word
			default:
				line += " " + word
			}
		}
		out = append(out, line)
	}
	return out
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
			// Places in imported files may come without byte offsets.
			cmp.Compare(a.Subject.Start.Line, b.Subject.Start.Line),
			cmp.Compare(a.Subject.Start.Column, b.Subject.Start.Column),
		)
	})
}
