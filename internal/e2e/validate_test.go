package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/licensegw/licensegw/internal/e2etest"
)

// TestValidate runs `licensegw validate` on a good and a bad configuration:
// exit statuses, and compiler-style positions for every error at once.
func TestValidate(t *testing.T) {
	t.Parallel()
	good := filepath.Join(t.TempDir(), "good.hcl")
	conf := `feature "cad" {
  version = "2024.1"
  seats   = 2
  queue { max_length = 3 }
}
plugin "concurrentlm" {
  path   = "` + bins.Path(pluginBin) + `"
  listen = { tcp = "127.0.0.1:0", udp = "127.0.0.1:0" }
}
`
	if err := os.WriteFile(good, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantStdout []string
		wantStderr []string
	}{
		{
			name:       "good",
			path:       good,
			wantStatus: 0,
			wantStdout: []string{"valid (1 features, 1 plugins, 0 warnings)"},
		},
		{
			name:       "negative seats and unknown attribute",
			path:       "testdata/bad.hcl",
			wantStatus: 3,
			wantStderr: []string{
				"bad.hcl:4:11: error:", // seats = -3, at the value
				"bad.hcl:5:3: error:",  // colour = ..., at the name
				"colour",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e2etest.Run(ctx, t, bins.Path(licensegwBin), []string{"validate", tt.path})
			status, stdout, stderr := r.Code, r.Stdout, r.Stderr
			if status != tt.wantStatus {
				t.Fatalf("exit status %d, want %d\nstdout: %s\nstderr: %s", status, tt.wantStatus, stdout, stderr)
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}
