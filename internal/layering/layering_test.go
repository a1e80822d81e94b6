package layering

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/licensegw/licensegw/"

// rules: a package under from must not depend (directly or not, test
// files aside) on a package under any of banned.
var rules = []struct {
	from   string
	banned []string
}{
	{"gateway/", []string{"plugins/"}},
	{"plugins/", []string{"gateway/"}},
	{"sdk/", []string{"gateway/", "plugins/", "internal/", "cmd/"}},
	{"cmd/licensegw-", []string{"gateway/"}}, // every plugin binary
	{"examples/minimal-plugin", []string{"gateway/", "plugins/", "internal/"}},
}

// serverOnly are the gateway's dependencies the SDK must not pull.
var serverOnly = []string{
	"github.com/nats-io/", "github.com/hashicorp/hcl", "github.com/zclconf/", "pgregory.net/rapid",
	"github.com/prometheus/", "github.com/chromedp/", "github.com/hashicorp/cli",
}

// TestLayering runs `go list -deps` over the module and checks every rule:
// the gateway core does not link plugin code, plugin binaries do not link
// the accounting engine or any other part of the core.
func TestLayering(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	// The SDK is a module of its own (sdk/go.mod): list both modules.
	var lines []string
	for _, dir := range []string{filepath.Join("..", ".."), filepath.Join("..", "..", "sdk")} {
		lines = append(lines, goList(t, dir)...)
	}
	checked := map[string]int{}
	for _, line := range lines {
		fields := strings.Fields(line)
		pkg, ok := strings.CutPrefix(fields[0], module)
		if !ok {
			continue
		}
		for _, r := range rules {
			if !strings.HasPrefix(pkg, r.from) {
				continue
			}
			checked[r.from]++
			for _, dep := range fields[1:] {
				d, ok := strings.CutPrefix(dep, module)
				if !ok {
					continue
				}
				for _, b := range r.banned {
					if strings.HasPrefix(d, b) {
						t.Errorf("%s depends on %s (%s must not depend on %s)", pkg, d, r.from, b)
					}
				}
			}
		}
	}
	// Plugin authors import the SDK: it must not bring the gateway's own
	// dependencies into their builds.
	for _, line := range lines {
		fields := strings.Fields(line)
		if !strings.HasPrefix(fields[0], module+"sdk") {
			continue
		}
		for _, dep := range fields[1:] {
			for _, b := range serverOnly {
				if strings.HasPrefix(dep, b) {
					t.Errorf("%s depends on %s, a dependency of the gateway, not of plugins", fields[0], dep)
				}
			}
		}
	}
	// A rule that matched nothing would pass for the wrong reason.
	for _, r := range rules {
		if checked[r.from] == 0 {
			t.Errorf("no package matches %q: the rule checks nothing", r.from)
		}
	}
}

// goList lists the packages of the module in dir, each with its
// dependencies: "import/path dep dep ...".
func goList(t *testing.T, dir string) []string {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(goBin, "list", "-e", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./...")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list in %s: %v", dir, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}
