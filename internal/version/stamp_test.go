package version

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakefileStamps builds licensegw the way users do, with make, and
// checks that the binary reports the version the Makefile stamped and the
// commit it asked git for, even though Go's own VCS stamping is off
// (-buildvcs=false, as in a container build).
func TestMakefileStamps(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	want := "licensegw 9.8.7-test "
	if head, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output(); err == nil {
		want += "(" + strings.TrimSpace(string(head)) // "-dirty)" may follow
	}
	bin := t.TempDir()
	build := exec.Command("make", "-s", "-C", filepath.Join("..", ".."), "build",
		"BIN="+bin, "CMDS=./cmd/licensegw", "VERSION=9.8.7-test")
	build.Env = append(build.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"version"}, {"--version"}, {"-v"}} {
		out, err := exec.Command(filepath.Join(bin, "licensegw"), args...).Output()
		if err != nil {
			t.Fatalf("licensegw %v: %v", args, err)
		}
		if got := string(out); !strings.HasPrefix(got, want) {
			t.Errorf("licensegw %v = %q, want it to start with %q", args, got, want)
		}
	}
}

func TestString(t *testing.T) {
	saved := Commit
	t.Cleanup(func() { Commit = saved })
	Commit = "abc"
	if s := String(); !strings.HasPrefix(s, Product+" "+Version+" (abc) go") {
		t.Errorf("String() = %q with Commit set", s)
	}
}
