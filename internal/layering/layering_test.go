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

// TestLayering runs `go list -deps` over the module and checks every rule:
// the gateway core does not link plugin code, plugin binaries do not link
// the accounting engine or any other part of the core.
func TestLayering(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(goBin, "list", "-e", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
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
	// A rule that matched nothing would pass for the wrong reason.
	for _, r := range rules {
		if checked[r.from] == 0 {
			t.Errorf("no package matches %q: the rule checks nothing", r.from)
		}
	}
}
