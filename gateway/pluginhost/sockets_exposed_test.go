package pluginhost

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

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

// TestWarnExposed: a socket other hosts can reach is warned about, naming
// the risk and the remedy, unless the plugin has an allow list; a
// loopback one never is.
func TestWarnExposed(t *testing.T) {
	socks := []*socket{
		{name: "tcp", network: "tcp", addr: "0.0.0.0:1648"},
		{name: "udp", network: "udp", addr: "127.0.0.1:1648"},
	}
	for _, allowed := range []bool{false, true} {
		var buf bytes.Buffer
		warnExposed(hclog.New(&hclog.LoggerOptions{Output: &buf}), socks, allowed)
		out := buf.String()
		if allowed {
			if out != "" {
				t.Errorf("with an allow list: %s", out)
			}
			continue
		}
		if strings.Count(out, "[WARN]") != 1 || !strings.Contains(out, "addr=0.0.0.0:1648") {
			t.Fatalf("want one warning, about 0.0.0.0:1648:\n%s", out)
		}
		for _, want := range []string{"no allow list", "take seats", "list every product", "status_allow", "docs/security.md"} {
			if !strings.Contains(out, want) {
				t.Errorf("the warning does not say %q:\n%s", want, out)
			}
		}
	}
}
