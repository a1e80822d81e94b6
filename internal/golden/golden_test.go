package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// outcome runs Check on a throwaway testing.T (in a goroutine, since Check
// may call FailNow) and says whether it failed.
func outcome(path string, got []byte, mode Mode) bool {
	var inner testing.T
	done := make(chan struct{})
	go func() {
		defer close(done)
		Check(&inner, path, got, mode)
	}()
	<-done
	return inner.Failed()
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "x.golden")
	read := func() string {
		b, err := os.ReadFile(path)
		if err != nil {
			return "<" + err.Error() + ">"
		}
		return string(b)
	}
	tests := []struct {
		name       string
		got        string
		mode       Mode
		wantFailed bool
		wantFile   string
	}{
		{"missing, compare", "one\n", Compare, true, "<open " + path + ": no such file or directory>"},
		{"missing, -update alone does not create", "one\n", Review, true, "<open " + path + ": no such file or directory>"},
		{"missing, -update -accept creates and fails", "one\n", Rewrite, true, "one\n"},
		{"same", "one\n", Compare, false, "one\n"},
		{"same under -update -accept: nothing to review", "one\n", Rewrite, false, "one\n"},
		{"differs", "two\n", Compare, true, "one\n"},
		{"differs, -update alone refuses", "two\n", Review, true, "one\n"},
		{"differs, -update -accept rewrites and fails", "two\n", Rewrite, true, "two\n"},
		{"then the rewritten file passes", "two\n", Compare, false, "two\n"},
	}
	for _, tt := range tests {
		if failed := outcome(path, []byte(tt.got), tt.mode); failed != tt.wantFailed {
			t.Errorf("%s: failed %v, want %v", tt.name, failed, tt.wantFailed)
		}
		if got := read(); got != tt.wantFile {
			t.Errorf("%s: file holds %q, want %q", tt.name, got, tt.wantFile)
		}
	}
}

func TestModeOf(t *testing.T) {
	if ModeOf(false, false) != Compare || ModeOf(true, false) != Review || ModeOf(true, true) != Rewrite || ModeOf(false, true) != Compare {
		t.Error("ModeOf: -accept must need -update")
	}
}

func TestDiff(t *testing.T) {
	want := "a\nb\nc\nd\ne\nf\ng\nh\n"
	got := "a\nb\nc\nd\nE\nf\ng\nh\nI\n"
	d := Diff(want, got)
	for _, line := range []string{"-e", "+E", "+I", " d", " f", "  ... 2 unchanged lines"} {
		if !strings.Contains(d, line+"\n") {
			t.Errorf("diff lacks %q:\n%s", line, d)
		}
	}
	if strings.Contains(d, " a\n") {
		t.Errorf("diff keeps a line far from any change:\n%s", d)
	}
}
