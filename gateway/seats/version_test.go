package seats

import "testing"

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1", "1", 0},
		{"1", "1.0", 0},
		{"1.0.0", "1", 0},
		{"", "0", 0},
		{"2.10", "2.9", 1},
		{"2.9", "2.10", -1},
		{"010", "10", 0},
		{"2024.1", "2023.12", 1},
		{"1.1", "1", 1},
		{"1.a", "1.b", -1},
		{"1.2", "1.a", -1}, // numbers before words
		{"1.beta", "1.0", 1},
		{"3", "2.99.99", 1},
		{"99999999999999999999", "1", 1}, // longer than int64
	}
	for _, tt := range tests {
		if got := CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := CompareVersions(tt.b, tt.a); got != -tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

func TestValidVersion(t *testing.T) {
	for _, v := range []string{"", "1", "2024.1", "1.0-beta", "v2"} {
		if !validVersion(v) {
			t.Errorf("validVersion(%q) = false", v)
		}
	}
	for _, v := range []string{".", "1.", ".1", "1..2", "1 2", "1/2"} {
		if validVersion(v) {
			t.Errorf("validVersion(%q) = true", v)
		}
	}
}

// FuzzCompareVersions checks that the comparison is an order: reflexive,
// antisymmetric, indifferent to trailing zero components, and transitive
// over the three strings.
func FuzzCompareVersions(f *testing.F) {
	f.Add("1.2", "1.10", "1.2.0")
	f.Add("", "0", "a")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		if CompareVersions(a, a) != 0 {
			t.Fatalf("%q != itself", a)
		}
		ab, ba := CompareVersions(a, b), CompareVersions(b, a)
		if ab != -ba || ab < -1 || ab > 1 {
			t.Fatalf("Compare(%q,%q)=%d, reverse %d", a, b, ab, ba)
		}
		if CompareVersions(a+".0", a) != 0 {
			t.Fatalf("%q.0 != %q", a, a)
		}
		bc, ac := CompareVersions(b, c), CompareVersions(a, c)
		if ab <= 0 && bc <= 0 && ac > 0 {
			t.Fatalf("not transitive: %q <= %q <= %q but %q > %q", a, b, c, a, c)
		}
	})
}
