package audit

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func lines(ids ...string) string {
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "{\"id\":%q,\"kind\":\"checkout\"}\n", id)
	}
	return b.String()
}

func TestRecoverTail(t *testing.T) {
	long := strings.Repeat("x", tailChunk) // lines longer than a read chunk
	tests := []struct {
		name     string
		content  string
		n        int
		wantIDs  []string
		wantFile string
	}{
		{"empty", "", 4, []string{}, ""},
		{"complete lines", lines("a", "b", "c"), 4, []string{"a", "b", "c"}, lines("a", "b", "c")},
		{"only the last n", lines("a", "b", "c", "d", "e"), 2, []string{"d", "e"}, lines("a", "b", "c", "d", "e")},
		{"partial last line is cut", lines("a", "b") + `{"id":"c","ki`, 4, []string{"a", "b"}, lines("a", "b")},
		{"only a partial line", `{"id":"c"`, 4, []string{}, ""},
		{"non-JSON lines are skipped", lines("a") + "garbage\n" + lines("b"), 4, []string{"a", "b"}, lines("a") + "garbage\n" + lines("b")},
		{
			"lines longer than a chunk",
			fmt.Sprintf("{\"id\":\"a\",\"p\":%q}\n{\"id\":\"b\",\"p\":%q}\n{\"id\":\"c\",\"p\":%q}\n", long, long, long), 2,
			[]string{"b", "c"}, "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ids, _, err := recoverTail(f, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids, tt.wantIDs) {
				t.Errorf("ids = %q, want %q", ids, tt.wantIDs)
			}
			got, _ := os.ReadFile(path)
			if tt.wantFile != "" && string(got) != tt.wantFile {
				t.Errorf("file after recovery = %q, want %q", got, tt.wantFile)
			}
			// Appending continues on a line boundary.
			if _, err := f.WriteString(lines("z")); err != nil {
				t.Fatal(err)
			}
			got, _ = os.ReadFile(path)
			if !bytes.HasSuffix(got, []byte(lines("z"))) || (len(got) > len(lines("z")) && got[len(got)-len(lines("z"))-1] != '\n') {
				t.Errorf("append after recovery does not start a line: %q", got)
			}
		})
	}
}

func FuzzRecoverTail(f *testing.F) {
	f.Add([]byte(lines("a", "b")), 1)
	f.Add([]byte(lines("a")+`{"id":"b"`), 3)
	f.Add([]byte("\n\n\n"), 2)
	f.Fuzz(func(t *testing.T, content []byte, n int) {
		if n < 1 || n > 100 {
			return
		}
		path := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		fh, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		ids, _, err := recoverTail(fh, n)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) > n {
			t.Fatalf("%d ids for n=%d", len(ids), n)
		}
		got, _ := os.ReadFile(path)
		if !bytes.HasPrefix(content, got) {
			t.Fatal("recovery changed more than a trailing partial line")
		}
		if len(got) > 0 && got[len(got)-1] != '\n' {
			t.Fatalf("file does not end on a line: %q", got)
		}
		if bytes.Contains(content[len(got):], []byte{'\n'}) {
			t.Fatal("recovery cut a complete line")
		}
	})
}
