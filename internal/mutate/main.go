package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	only := flag.String("only", "", "run only the mutation with this name")
	list := flag.Bool("list", false, "list the mutations and exit")
	flag.Parse()
	if err := run(os.Stdout, *only, *list); err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, only string, list bool) error {
	ms := mutations()
	if list {
		for _, m := range ms {
			fmt.Fprintf(w, "%-32s %s %v\n", m.name, m.file, m.pkgs)
		}
		return nil
	}
	if only != "" {
		ms = slices.DeleteFunc(ms, func(m mutation) bool { return m.name != only })
		if len(ms) == 0 {
			return fmt.Errorf("no mutation named %q (-list lists them)", only)
		}
	}
	root, err := gitRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "licensegw-mutate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := copyTree(root, dir); err != nil {
		return err
	}
	var survived []string
	for _, m := range ms {
		caught, err := try(dir, m)
		switch {
		case err != nil:
			fmt.Fprintf(w, "FAIL   %-32s %v\n", m.name, err)
			survived = append(survived, m.name)
		case len(caught) == 0:
			fmt.Fprintf(w, "FAIL   %-32s survived: no test in %s failed\n", m.name, strings.Join(m.pkgs, " "))
			survived = append(survived, m.name)
		default:
			fmt.Fprintf(w, "caught %-32s by %s\n", m.name, strings.Join(caught, ", "))
		}
	}
	if len(survived) > 0 {
		return fmt.Errorf("%d of %d mutations not caught: %s", len(survived), len(ms), strings.Join(survived, "; "))
	}
	fmt.Fprintf(w, "all %d mutations caught\n", len(ms))
	return nil
}

// try applies m in the copy at dir, runs its packages' tests, restores the
// file and returns the tests that failed.
func try(dir string, m mutation) ([]string, error) {
	path := filepath.Join(dir, m.file)
	orig, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if n := bytes.Count(orig, []byte(m.old)); n != 1 {
		return nil, fmt.Errorf("stale: the text to mutate occurs %d times in %s (want once); update internal/mutate/mutations.go", n, m.file)
	}
	mutated := bytes.Replace(orig, []byte(m.old), []byte(m.new), 1)
	if err := os.WriteFile(path, mutated, 0o644); err != nil {
		return nil, err
	}
	caught, err := runTests(dir, m)
	if rerr := os.WriteFile(path, orig, 0o644); rerr != nil {
		return nil, fmt.Errorf("restore %s: %w", m.file, rerr)
	}
	return caught, err
}

// runTests runs the tests of m's packages in dir and returns those that
// failed.
func runTests(dir string, m mutation) ([]string, error) {
	args := []string{"test", "-count=1", "-json"}
	if m.run != "" {
		args = append(args, "-run", m.run)
	}
	cmd := exec.Command("go", append(args, m.pkgs...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) { // a failing test exits non-zero: the point
		return nil, fmt.Errorf("go test: %w", err)
	}
	return failedTests(out, stderr.String())
}

// failedTests returns the tests (leaf names, package-qualified) that failed
// in go test -json output; a package that did not build is an error, since
// a mutation that breaks the build proves nothing about the tests.
func failedTests(out []byte, stderr string) ([]string, error) {
	var failed []string
	var buildErr []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var ev struct {
			Action, Package, Test, Output string
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		switch {
		case ev.Action == "fail" && ev.Test != "":
			failed = append(failed, shortPkg(ev.Package)+"."+ev.Test)
		case ev.Action == "build-fail", ev.Action == "output" && strings.Contains(ev.Output, "[build failed]"):
			buildErr = append(buildErr, ev.Package)
		}
	}
	if len(buildErr) > 0 || len(failed) == 0 && strings.Contains(stderr, "build failed") {
		return nil, fmt.Errorf("the mutation does not build (%s): %s", strings.Join(buildErr, " "), strings.TrimSpace(stderr))
	}
	// A parent test fails when a subtest does: report the leaves.
	slices.Sort(failed)
	return slices.DeleteFunc(slices.Clone(failed), func(name string) bool {
		return slices.ContainsFunc(failed, func(o string) bool { return strings.HasPrefix(o, name+"/") })
	}), nil
}

func shortPkg(p string) string {
	return strings.TrimPrefix(p, "github.com/licensegw/licensegw/")
}

func gitRoot() (string, error) {
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", fmt.Errorf("not in a git repository: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// copyTree copies the files git knows about (tracked, or untracked and not
// ignored) from root to dir.
func copyTree(root, dir string) error {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("git ls-files: %w", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, name)
		info, err := os.Lstat(src)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the working tree
		}
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, b, info.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}
