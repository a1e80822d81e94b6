package e2etest

import (
	"os"
	"strings"
	"testing"
)

// TestNewRendersTemplate: the harness's blocks come first, a name used
// twice gets one address, Path and Bin resolve, and the configuration is
// checked without starting anything.
func TestNewRendersTemplate(t *testing.T) {
	g := New(t, Options{
		Bins: Binaries{Dir: "/opt/bin"},
		Config: `
# {{.Bin "licensegw-x"}} {{.Path "f.lic"}} {{.UDP "u"}}
feature "f" {
  seats       = 1
  description = "{{.TCP "a"}} {{.TCP "a"}} {{.TCPUDP "b"}}"
}
`,
		Files: map[string]string{"copied.txt": "config.go"},
	})
	b, err := os.ReadFile(g.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	a, bb, u := g.Addr("a"), g.Addr("b"), g.Addr("u")
	for _, want := range []string{
		`listen = "` + g.AdminAddr + `"`,
		`listen   = "` + g.NATSAddr + `"`,
		`description = "` + a + " " + a + " " + bb + `"`,
		"# /opt/bin/licensegw-x " + g.Dir + "/f.lic " + u,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("config lacks %q:\n%s", want, text)
		}
	}
	if len(map[string]bool{a: true, bb: true, u: true, g.AdminAddr: true, g.NATSAddr: true}) != 5 {
		t.Errorf("addresses not distinct: %s %s %s %s %s", a, bb, u, g.AdminAddr, g.NATSAddr)
	}
	if _, err := os.Stat(g.Path("copied.txt")); err != nil {
		t.Errorf("Files not copied: %v", err)
	}
}

func TestRenderErrors(t *testing.T) {
	g := &Gateway{opts: Options{Name: DefaultName}, addrs: map[string]string{}}
	for _, tmpl := range []string{`{{.Nope}}`, `{{.TCP}}`, `{{`} {
		if _, err := g.render(tmpl); err == nil {
			t.Errorf("render %q: no error", tmpl)
		}
	}
}
