package loadgen

import "testing"

func TestPairValue(t *testing.T) {
	for _, tc := range []struct {
		line, key, want string
		ok              bool
	}{
		{"GRANTED lease=abc feature=f count=1\n", "lease", "abc", true},
		{"GRANTED feature=f lease=abc\r\n", "lease", "abc", true},
		{"GRANTED xlease=no lease=yes\n", "lease", "yes", true},
		{"GRANTED feature=lease lease=l1 sig=s0-_\n", "sig", "s0-_", true},
		{"GRANTED feature=f\n", "lease", "", false},
		{"GRANTED feature=f lease\n", "lease", "", false},
		{"GRANTED lease=\n", "lease", "", true},
	} {
		v, ok := pairValue([]byte(tc.line), tc.key)
		if ok != tc.ok || string(v) != tc.want {
			t.Errorf("pairValue(%q, %q) = %q, %v; want %q, %v", tc.line, tc.key, v, ok, tc.want, tc.ok)
		}
	}
}
