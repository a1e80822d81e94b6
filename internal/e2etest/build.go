package e2etest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BinEnv names a directory of binaries already built (by `make build`, or
// from a clean checkout while others edit the tree); when it is set, Main
// uses it instead of building.
const BinEnv = "LICENSEGW_E2E_BIN"

// ErrNoModule is returned when the go command is not run inside a module.
var ErrNoModule = errors.New("not inside a Go module")

// Binaries is a directory of built executables.
type Binaries struct {
	Dir string // absolute
}

// Path is the executable called name ("licensegw", "lmutil", ...).
func (b Binaries) Path(name string) string { return filepath.Join(b.Dir, name) }

// ModuleRoot is the directory of the go.mod of the module the current
// directory belongs to.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", ErrNoModule
	}
	return filepath.Dir(gomod), nil
}

// Build runs `go build -o dir/ pkgs...` from the module root, so package
// patterns are relative to it ("./cmd/...", "./examples/minimal-plugin").
func Build(dir string, pkgs ...string) error {
	if len(pkgs) == 0 {
		return errors.New("build: no package")
	}
	root, err := ModuleRoot()
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	args := append([]string{"build", "-o", abs + string(filepath.Separator)}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", strings.Join(pkgs, " "), err, out)
	}
	return nil
}

// Main is a TestMain body: it builds pkgs into a temporary directory (or
// takes the directory BinEnv names), stores it in *bins, runs the tests
// and removes what it built. It returns the exit status for os.Exit.
func Main(m *testing.M, bins *Binaries, pkgs ...string) int {
	if dir := os.Getenv(BinEnv); dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2etest:", err)
			return 1
		}
		*bins = Binaries{Dir: abs}
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "licensegw-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2etest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := Build(dir, pkgs...); err != nil {
		fmt.Fprintln(os.Stderr, "e2etest:", err)
		return 1
	}
	*bins = Binaries{Dir: dir}
	return m.Run()
}
