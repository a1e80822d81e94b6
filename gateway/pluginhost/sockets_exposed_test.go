package pluginhost

import "testing"

func TestExposed(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:1648": false,
		"127.0.0.2:1648": false,
		"[::1]:1648":     false,
		"0.0.0.0:1648":   true,
		"[::]:1648":      true,
		"10.0.0.5:27000": true,
		"garbage":        true,
	} {
		if got := exposed(addr); got != want {
			t.Errorf("exposed(%q) = %v, want %v", addr, got, want)
		}
	}
}
