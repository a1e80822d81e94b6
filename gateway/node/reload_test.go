package node

import (
	"testing"

	"github.com/licensegw/licensegw/gateway/config"
)

// TestSamePlugins: every attribute that changes how a plugin process is
// started makes a reload say the plugin blocks changed.
func TestSamePlugins(t *testing.T) {
	base := func() config.Plugin {
		return config.Plugin{
			Name: "clm", Path: "/bin/clm", Args: []string{"-v"}, Enabled: true,
			Listen: map[string]string{"tcp": ":1648"}, Allow: []string{"10.0.0.0/8"},
			StatusAllow: []string{"10.0.0.1"}, GOMAXPROCS: 2,
		}
	}
	tests := []struct {
		name   string
		change func(*config.Plugin)
		same   bool
	}{
		{"unchanged", func(*config.Plugin) {}, true},
		{"path", func(p *config.Plugin) { p.Path = "/bin/other" }, false},
		{"sha256", func(p *config.Plugin) { p.SHA256 = "ab" }, false},
		{"args", func(p *config.Plugin) { p.Args = nil }, false},
		{"listen", func(p *config.Plugin) { p.Listen["tcp"] = ":1649" }, false},
		{"enabled", func(p *config.Plugin) { p.Enabled = false }, false},
		{"allow", func(p *config.Plugin) { p.Allow = append(p.Allow, "192.0.2.1") }, false},
		{"status_allow", func(p *config.Plugin) { p.StatusAllow = nil }, false},
		{"gomaxprocs", func(p *config.Plugin) { p.GOMAXPROCS = 0 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed := base()
			tt.change(&changed)
			if got := samePlugins([]config.Plugin{base()}, []config.Plugin{changed}); got != tt.same {
				t.Errorf("samePlugins after a changed %s = %v, want %v", tt.name, got, tt.same)
			}
		})
	}
}
