package licfile

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input crashes the parser and that what it keeps
// is consistent: every pool's count is the sum of its lines' counts.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("../testdata/corpus/*.lic")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lf, _ := Parse("fuzz.lic", data)
		if lf == nil {
			t.Fatal("nil File")
		}
		for _, p := range lf.Pools {
			sum := 0
			for _, l := range p.Lines {
				if l.Ignored {
					t.Fatalf("ignored line %s in pool %s", l.Pos, p.Name)
				}
				sum += l.Count
			}
			if sum != p.Count {
				t.Fatalf("pool %s count %d, lines add to %d", p.Name, p.Count, sum)
			}
		}
	})
}
