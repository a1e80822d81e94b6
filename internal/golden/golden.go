package golden

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Mode says what Check does when the output differs from the file.
type Mode int

// The modes.
const (
	Compare Mode = iota // fail with the diff
	Review              // fail with the diff and say how to rewrite it
	Rewrite             // rewrite the file, fail with the diff
)

// ModeOf returns the mode for a test package's -update and -accept flags.
func ModeOf(update, accept bool) Mode {
	switch {
	case update && accept:
		return Rewrite
	case update:
		return Review
	}
	return Compare
}

// Check fails t unless got equals the contents of path. In Rewrite mode it
// writes got to path (creating its directory) when they differ, and fails
// all the same, with the diff.
func Check(t testing.TB, path string, got []byte, mode Mode) {
	t.Helper()
	want, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	missing := err != nil
	if !missing && string(got) == string(want) {
		return
	}
	d := Diff(string(want), string(got))
	switch {
	case mode == Rewrite:
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Errorf("rewrote %s; review the change before committing it, then run the tests without -update:\n%s", path, d)
	case mode == Review:
		t.Errorf("%s differs; not rewritten: check the diff, then run with -update -accept to rewrite it:\n%s", path, d)
	case missing:
		t.Errorf("%s does not exist (run with -update to see what it would hold)", path)
	default:
		t.Errorf("output differs from %s (- file, + got; -update shows how it would change):\n%s", path, d)
	}
}

// Diff returns a line diff of want and got: lines only in want start with
// "-", lines only in got with "+", common lines with " ". Long runs of
// common lines are elided.
func Diff(want, got string) string {
	a, b := lines(want), lines(got)
	// Longest common subsequence, from the end: golden files are small.
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			out = append(out, " "+a[i])
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, "-"+a[i])
			i++
		default:
			out = append(out, "+"+b[j])
			j++
		}
	}
	return strings.Join(elide(out, 2), "\n") + "\n"
}

func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// elide keeps the changed lines and ctx common lines around each change.
func elide(diff []string, ctx int) []string {
	keep := make([]bool, len(diff))
	for i, l := range diff {
		if l[0] == ' ' {
			continue
		}
		for k := max(0, i-ctx); k <= min(len(diff)-1, i+ctx); k++ {
			keep[k] = true
		}
	}
	var out []string
	skipped := 0
	for i, l := range diff {
		if keep[i] {
			if skipped > 0 {
				out = append(out, fmt.Sprintf("  ... %d unchanged lines", skipped))
				skipped = 0
			}
			out = append(out, l)
			continue
		}
		skipped++
	}
	if skipped > 0 {
		out = append(out, fmt.Sprintf("  ... %d unchanged lines", skipped))
	}
	return out
}
