package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// binaries are the built executables every test runs. TestMain builds them
// once; tests read them only.
type binaries struct {
	dir       string // holds every binary
	licensegw string // daemon and CLI
	plugin    string // licensegw-concurrentlm
}

// bins is set by TestMain before any test runs and never changed after.
var bins binaries

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// LICENSEGW_E2E_BIN names a directory of binaries already built (by
	// `make build`, or from a clean checkout while others edit the tree).
	if dir := os.Getenv("LICENSEGW_E2E_BIN"); dir != "" {
		bins = binariesIn(dir)
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "licensegw-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := build(dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build:", err)
		return 1
	}
	bins = binariesIn(dir)
	return m.Run()
}

func binariesIn(dir string) binaries {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return binaries{
		dir:       dir,
		licensegw: filepath.Join(dir, "licensegw"),
		plugin:    filepath.Join(dir, "licensegw-concurrentlm"),
	}
}

// build compiles the daemon and the concurrent-lm plugin into dir, from the
// module root, exactly as `make build` does for those two commands.
func build(dir string) error {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return fmt.Errorf("not inside a module")
	}
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./cmd/licensegw", "./cmd/licensegw-concurrentlm")
	cmd.Dir = filepath.Dir(gomod)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, b)
	}
	return nil
}
