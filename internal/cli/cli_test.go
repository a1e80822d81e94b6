package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExitStatuses runs the command line in-process: every way of asking
// for help exits 0 with the help on stdout; every wrong command line exits
// 2 with the reason on stderr; run's PROGRAM that cannot start exits 126 or
// 127 without asking the gateway for a seat (none listens on the address).
func TestExitStatuses(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "script")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noServer := "--server=127.0.0.1:1" // nothing listens on port 1
	tests := []struct {
		args     []string
		code     int
		stdout   string // a line stdout must contain ("" for none)
		stderr   string
		quietOut bool // nothing on stdout
	}{
		// Help: exit 0, on stdout.
		{args: []string{"-h"}, code: 0, stdout: "Usage: licensegw [--version]"},
		{args: []string{"--help"}, code: 0, stdout: "Commands:"},
		{args: []string{"help"}, code: 0, stdout: "events tail"},
		{args: []string{"help", "status"}, code: 0, stdout: "Usage: licensegw status [options]"},
		{args: []string{"help", "events", "tail"}, code: 0, stdout: "Usage: licensegw events tail [options]"},
		{args: []string{"help", "validate"}, code: 0, stdout: "validate [options] [FILE]"},
		{args: []string{"status", "-h"}, code: 0, stdout: "-addr address"},
		{args: []string{"status", "--help"}, code: 0, stdout: "LICENSEGW_ADDR"},
		{args: []string{"serve", "-h"}, code: 0, stdout: "-config file"},
		{args: []string{"validate", "-h"}, code: 0, stdout: "default config.hcl"},
		{args: []string{"run", "-h"}, code: 0, stdout: "127 when it is not"},
		{args: []string{"remove", "-h"}, code: 0, stdout: "LEASE..."},
		{args: []string{"reload", "-h"}, code: 0, stdout: "Leases and queues are kept"},
		{args: []string{"leader", "step-down", "-h"}, code: 0, stdout: "Needs a write token"},
		{args: []string{"bench", "-h"}, code: 0, stdout: "-clients"},
		{args: []string{"events", "-h"}, code: 0, stdout: "tail"},
		{args: []string{"events", "tail", "-h"}, code: 0, stdout: "-kind kind"},
		{args: []string{"events", "tail", "--help"}, code: 0, stdout: "-creds file"},
		{args: []string{"nats", "identity", "-h"}, code: 0, stdout: "-access read"},
		{args: []string{"events", "verify", "-h"}, code: 0, stdout: "-from seq"},
		{args: []string{"journal", "repair", "-h"}, code: 0, stdout: "-dry-run"},
		{args: []string{"import", "-h"}, code: 0, stdout: "flexlm"},
		{args: []string{"import", "flexlm", "-h"}, code: 0, stdout: "-options file"},
		{args: []string{"version", "-h"}, code: 0, stdout: "--version"},
		{args: []string{"lmutil", "-h"}, code: 0, stdout: "lmstat"},
		{args: []string{"help", "lmutil"}, code: 0, stdout: "lmremove [-c ...] -h feature host port handle"},
		{args: []string{"lsmon", "-h"}, code: 0, stdout: "usage: lsmon"},
		{args: []string{"help", "lsmon"}, code: 0, stdout: "LSHOST"},
		// Version.
		{args: []string{"--version"}, code: 0, stdout: "licensegw "},
		{args: []string{"-v"}, code: 0, stdout: "licensegw "},
		{args: []string{"version"}, code: 0, stdout: "licensegw "},
		// Wrong command lines: exit 2, on stderr.
		{args: nil, code: 2, stderr: "Usage: licensegw", quietOut: true},
		{args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`, quietOut: true},
		{args: []string{"help", "frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`, quietOut: true},
		{args: []string{"--bogus", "status"}, code: 2, stderr: `unknown option "--bogus"`, quietOut: true},
		{args: []string{"status", "--bogus"}, code: 2, stderr: "flag provided but not defined: -bogus", quietOut: true},
		{args: []string{"status", "extra"}, code: 2, stderr: `unexpected argument "extra"`, quietOut: true},
		{args: []string{"validate", "a.hcl", "b.hcl"}, code: 2, stderr: "one configuration file", quietOut: true},
		{args: []string{"run", "--feature", "x"}, code: 2, stderr: "which program?", quietOut: true},
		{args: []string{"run", "true"}, code: 2, stderr: "--feature is required", quietOut: true},
		{args: []string{"events"}, code: 2, stderr: "Commands:", quietOut: true},
		{args: []string{"events", "nope"}, code: 2, stderr: `unknown command "nope"`, quietOut: true},
		{args: []string{"events", "verify", "extra"}, code: 2, stderr: `unexpected argument "extra"`, quietOut: true},
		{args: []string{"journal"}, code: 2, stderr: "journal repair", quietOut: true},
		{args: []string{"import"}, code: 2, stderr: "import flexlm", quietOut: true},
		{args: []string{"import", "rlm"}, code: 2, stderr: `unknown command "rlm"`, quietOut: true},
		{args: []string{"import", "flexlm"}, code: 2, stderr: "one licence file", quietOut: true},
		{args: []string{"remove"}, code: 2, stderr: "which lease?", quietOut: true},
		{args: []string{"leader"}, code: 2, stderr: "leader step-down", quietOut: true},
		{args: []string{"leader", "step-down", "extra"}, code: 2, stderr: `unexpected argument "extra"`, quietOut: true},
		{args: []string{"nats", "identity", "-name", "x"}, code: 2, stderr: "nats identity -name NAME -out FILE", quietOut: true},
		{args: []string{"lmutil"}, code: 2, stderr: "usage: lmutil", quietOut: true},
		{args: []string{"lsmon", "--bogus"}, code: 2, stderr: "flag provided but not defined", quietOut: true},
		// The command ran and failed: 1.
		{args: []string{"events", "tail", "--kind", "nope"}, code: 1, stderr: `unknown event kind "nope"`},
		{args: []string{"events", "tail", "--nats", "nats://127.0.0.1:1", "--creds", filepath.Join(dir, "missing.nk")}, code: 1, stderr: "NATS credentials"},
		{args: []string{"events", "tail", "--nats", "nats://127.0.0.1:1", "--creds", notExec}, code: 1, stderr: "no NATS credentials"},
		{args: []string{"nats", "identity", "-name", "x", "-out", notExec}, code: 1, stderr: "exists"},
		{args: []string{"nats", "identity", "-name", "x", "-out", filepath.Join(dir, "x.nk"), "-access", "admin"}, code: 1, stderr: `-access "admin"`},
		{args: []string{"events", "verify", "--key", "not-a-key"}, code: 1, stderr: "neither a base64url public key nor a readable file"},
		{args: []string{"events", "verify", "--nats", "nats://127.0.0.1:1"}, code: 1, stderr: "connect to NATS at nats://127.0.0.1:1"},
		{args: []string{"journal", "repair", filepath.Join(dir, "missing.hcl")}, code: 3, stderr: "missing.hcl"},
		{args: []string{"status", "--addr", "127.0.0.1:1"}, code: 1, stderr: "licensegw: "},
		// run: the program cannot start.
		{args: []string{"run", noServer, "--feature", "x", "--", "no-such-program-licensegw"}, code: 127, stderr: "not found"},
		{args: []string{"run", noServer, "--feature", "x", "--", filepath.Join(dir, "missing")}, code: 127, stderr: "no such file"},
		{args: []string{"run", noServer, "--feature", "x", "--", notExec}, code: 126, stderr: "permission denied"},
		{args: []string{"run", noServer, "--feature", "x", "--", dir}, code: 126, stderr: ""},
		// ... and the gateway cannot be reached: 1.
		{args: []string{"run", noServer, "--feature", "x", "--", "true"}, code: 1, stderr: "cannot reach the licence gateway"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			e := &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
			code := mainEnv(t.Context(), e, tt.args)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, out.String())
			}
			if !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errb.String())
			}
			if tt.quietOut && out.Len() > 0 {
				t.Errorf("a wrong command line wrote to stdout:\n%s", out.String())
			}
			if tt.code == 0 && errb.Len() > 0 {
				t.Errorf("success wrote to stderr:\n%s", errb.String())
			}
		})
	}
}

// TestEnvDefaults checks that the environment variables the README lists
// are the defaults the commands show.
func TestEnvDefaults(t *testing.T) {
	vars := map[string]string{
		"LICENSEGW_ADDR":   "10.1.2.3:7648",
		"LICENSEGW_NATS":   "nats://10.1.2.3:4222",
		"LICENSEGW_SERVER": "10.1.2.3:1648",
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"status", "-h"}, `(default "10.1.2.3:7648")`},
		{[]string{"reload", "-h"}, `(default "10.1.2.3:7648")`},
		{[]string{"events", "tail", "-h"}, `(default "nats://10.1.2.3:4222")`},
		{[]string{"events", "verify", "-h"}, `(default "nats://10.1.2.3:4222")`},
		{[]string{"run", "-h"}, `(default "10.1.2.3:1648")`},
		{[]string{"bench", "-h"}, `(default "10.1.2.3:1648")`},
	} {
		var out, errb bytes.Buffer
		e := &env{stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}
		if code := mainEnv(t.Context(), e, tt.args); code != 0 || !strings.Contains(out.String(), tt.want) {
			t.Errorf("licensegw %v: exit %d, want 0 and %q in:\n%s%s", tt.args, code, tt.want, out.String(), errb.String())
		}
	}
}

func TestParseArgsInterspersed(t *testing.T) {
	tests := []struct {
		args         []string
		interspersed bool
		want         string
		json         bool
	}{
		{[]string{"a.hcl", "-json"}, true, "a.hcl", true},
		{[]string{"-json", "a.hcl"}, true, "a.hcl", true},
		{[]string{"a.hcl", "--", "-json"}, true, "a.hcl -json", false},
		{[]string{"prog", "-json"}, false, "prog -json", false},
	}
	for _, tt := range tests {
		var asJSON bool
		fs := newTestFlagSet(&asJSON)
		rest, err := parseArgs(fs, tt.args, tt.interspersed)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(rest, " "); got != tt.want || asJSON != tt.json {
			t.Errorf("parseArgs(%q, %v) = %q, json=%v; want %q, json=%v", tt.args, tt.interspersed, got, asJSON, tt.want, tt.json)
		}
	}
}

func newTestFlagSet(asJSON *bool) *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.BoolVar(asJSON, "json", false, "")
	return fs
}
