package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/licensegw/licensegw/internal/e2etest"
)

// importWarnings are the positions of every line of
// testdata/warnings/warn.{lic,opt} that the gateway does not honour.
var importWarnings = []string{
	"warn.lic:4:1",  // duplicate FEATURE
	"warn.lic:5:1",  // uncounted, node-locked
	"warn.lic:6:37", // DUP_GROUP
	"warn.opt:1:1",  // LINGER
	"warn.opt:2:1",  // NOLOG
}

// writeWarningConfig writes a configuration that imports the licence and
// options files with warnings, with gatewayExtra in its gateway block, and
// returns its path and the admin API's address.
func writeWarningConfig(t *testing.T, gatewayExtra string) (path, adminAddr string) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"warn.lic", "warn.opt"} {
		b, err := os.ReadFile(filepath.Join("testdata", "warnings", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	adminAddr, err = e2etest.FreeTCPAddr()
	if err != nil {
		t.Fatal(err)
	}
	natsAddr, err := e2etest.FreeTCPAddr()
	if err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`gateway {
  name     = "gw-logs"
  data_dir = "data"
%s
}
admin { listen = %q }
nats { listen = %q }
import "flexlm" {
  license_file = "warn.lic"
  options_file = "warn.opt"
}
`, gatewayExtra, adminAddr, natsAddr)
	path = filepath.Join(dir, "config.hcl")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, adminAddr
}

// TestValidateWarnings: validate says the configuration is valid and shows
// every line of the imported files it does not honour, with file:line:col
// and the line itself; -json gives the same as data.
func TestValidateWarnings(t *testing.T) {
	t.Parallel()
	path, _ := writeWarningConfig(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := filepath.Dir(path)

	r := e2etest.Run(ctx, t, bins.Path(licensegwBin), []string{"validate", path})
	if r.Code != 0 || !strings.Contains(r.Stdout, "valid (2 features, 0 plugins, 5 warnings)") {
		t.Fatalf("validate: exit %d, stdout %q, want 0 and 5 warnings\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	for _, at := range importWarnings {
		if !strings.Contains(r.Stderr, filepath.Join(dir, at)+": warning: ") {
			t.Errorf("validate's stderr lacks the warning at %s:\n%s", at, r.Stderr)
		}
	}
	for _, src := range []string{"| LINGER cad 300", "| NOLOG QUEUED", "DUP_GROUP=UHD"} {
		if !strings.Contains(r.Stderr, src) {
			t.Errorf("validate's stderr does not quote %q:\n%s", src, r.Stderr)
		}
	}

	r = e2etest.Run(ctx, t, bins.Path(licensegwBin), []string{"validate", path, "-json"})
	var res struct {
		Valid       bool
		Features    int
		Warnings    int
		Errors      int
		Diagnostics []struct {
			Severity, Summary, Filename string
			Line, Column                int
		}
	}
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil || r.Code != 0 {
		t.Fatalf("validate -json: exit %d, %v\n%s", r.Code, err, r.Stdout)
	}
	if !res.Valid || res.Features != 2 || res.Warnings != 5 || res.Errors != 0 || len(res.Diagnostics) != 5 {
		t.Fatalf("validate -json = %+v, want valid, 2 features, 5 warnings", res)
	}
	for i, at := range importWarnings {
		d := res.Diagnostics[i]
		if got := fmt.Sprintf("%s:%d:%d", filepath.Base(d.Filename), d.Line, d.Column); got != at || d.Severity != "warning" {
			t.Errorf("diagnostic %d at %s (%s), want a warning at %s", i, got, d.Severity, at)
		}
	}

	// An invalid configuration: -json says so, exit 3, errors counted.
	bad := filepath.Join(dir, "bad.hcl")
	if err := os.WriteFile(bad, []byte("feature \"x\" {\n  seats = -1\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = e2etest.Run(ctx, t, bins.Path(licensegwBin), []string{"validate", "-json", bad})
	res.Diagnostics = nil
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil || r.Code != 3 || res.Valid || res.Errors == 0 {
		t.Fatalf("validate -json of a bad file: exit %d, %+v, %v; want 3 and errors", r.Code, res, err)
	}
	if d := res.Diagnostics[0]; d.Line != 2 || d.Column != 11 || d.Severity != "error" {
		t.Errorf("first diagnostic %+v, want an error at 2:11", d)
	}
}

// TestServeLogs runs the daemon with each way of setting the log level and
// format, and checks what it logs: the configuration's warnings at start
// and after a reload (SIGHUP), JSON lines when asked, and no line below the
// level.
func TestServeLogs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		gateway string   // in the gateway block
		env     []string // added to the environment
		json    bool
		debug   bool // debug lines expected
		info    bool // info lines expected
	}{
		{name: "defaults", info: true},
		{name: "config json debug", gateway: `log_format = "json"` + "\n" + `log_level = "debug"`, json: true, debug: true, info: true},
		{name: "env json", env: []string{"LICENSEGW_LOG_FORMAT=json"}, json: true, info: true},
		{name: "env overrides config", gateway: `log_format = "json"` + "\n" + `log_level = "debug"`,
			env: []string{"LICENSEGW_LOG_FORMAT=text", "LICENSEGW_LOG=warn"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path, _ := writeWarningConfig(t, tt.gateway)
			log := serveUntilReloaded(t, path, tt.env)
			lines := strings.Split(strings.TrimSpace(log), "\n")
			var levels = map[string]int{}
			warnings := map[string]int{}
			for _, l := range lines {
				if tt.json {
					var m map[string]any
					if err := json.Unmarshal([]byte(l), &m); err != nil {
						t.Fatalf("a log line is not JSON: %q", l)
					}
					levels[fmt.Sprint(m["@level"])]++
					if m["@message"] == "configuration warning" {
						warnings[fmt.Sprint(m["at"])]++
					}
					continue
				}
				if strings.HasPrefix(l, "{") {
					t.Fatalf("a JSON line in a text log: %q", l)
				}
				for _, lv := range []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR"} {
					if strings.Contains(l, "["+lv+"]") {
						levels[strings.ToLower(lv)]++
					}
				}
				if i := strings.Index(l, "configuration warning: at="); i >= 0 {
					warnings[strings.Fields(l[i+len("configuration warning: at="):])[0]]++
				}
			}
			if (levels["debug"] > 0) != tt.debug || (levels["info"] > 0) != tt.info {
				t.Errorf("log levels seen %v; want debug %v, info %v", levels, tt.debug, tt.info)
			}
			for _, at := range importWarnings {
				// Once at start, once at the reload.
				if warnings[at] != 2 {
					t.Errorf("warning at %s logged %d times, want 2 (start and reload); all: %v", at, warnings[at], warnings)
				}
			}
			if t.Failed() {
				t.Logf("log:\n%s", log)
			}
		})
	}
}

// serveUntilReloaded runs licensegw serve on path until it has started,
// reloads it with SIGHUP, stops it with SIGTERM and returns its stderr.
func serveUntilReloaded(t *testing.T, path string, env []string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins.Path(licensegwBin), "serve", filepath.Base(path))
	cmd.Dir = filepath.Dir(path)
	cmd.Env = append(os.Environ(), env...)
	stderr, done := startBackground(t, cmd)
	waitFor := func(what string, n int) {
		e2etest.Eventually(t, time.Minute, what, func() error {
			if c := strings.Count(stderr.String(), what); c < n {
				return fmt.Errorf("%q seen %d times, want %d", what, c, n)
			}
			return nil
		})
	}
	// "gateway started" and "configuration reloaded" are info lines; at
	// level warn the warnings themselves say how far it got. serve handles
	// SIGHUP from before it loads the configuration, so the reload cannot
	// come too early.
	waitFor("warn.opt:2:1", 1)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("warn.opt:2:1", 2)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, stderr.String())
		}
	case <-ctx.Done():
		t.Fatalf("serve did not stop after SIGTERM:\n%s", stderr.String())
	}
	return stderr.String()
}
