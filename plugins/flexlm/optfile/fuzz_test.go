package optfile

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input crashes the parser and that every rule it
// keeps has what its keyword needs.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("../testdata/corpus/*.opt")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		of, _ := Parse("fuzz.opt", data)
		if of == nil {
			t.Fatal("nil File")
		}
		for _, r := range of.Rules {
			switch r.Keyword {
			case Reserve, Max, Include, Exclude:
				if r.Feature.Name == "" || r.Type == "" || r.Who == "" {
					t.Fatalf("incomplete rule %+v", r)
				}
			}
			if r.Count < 0 {
				t.Fatalf("negative count in %+v", r)
			}
		}
	})
}
