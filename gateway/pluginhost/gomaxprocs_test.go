package pluginhost

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestPluginGOMAXPROCS starts the minimal plugin and reads the GOMAXPROCS
// its process runs with from its metrics: the Spec's wins over the
// gateway's environment, which wins over the SDK's default of a quarter of
// the CPUs.
func TestPluginGOMAXPROCS(t *testing.T) {
	tests := []struct {
		name string
		env  string // the gateway's GOMAXPROCS; "" unset
		spec int
		want int // 0: the SDK's default
	}{
		{name: "spec wins over environment", env: "2", spec: 3, want: 3},
		{name: "environment passes through", env: "2", want: 2},
		{name: "spec without environment", spec: 5, want: 5},
		{name: "sdk default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == 0 {
				if runtimeProcs == 0 {
					t.Skip("the test process was started with GOMAXPROCS set: its default is unknown")
				}
				want = max(1, runtimeProcs/4)
			}
			t.Setenv("GOMAXPROCS", tt.env) // restored after the test
			if tt.env == "" {
				os.Unsetenv("GOMAXPROCS")
			}
			f, err := startMinimal(t, "", nil, func(s *Spec) { s.GOMAXPROCS = tt.spec })
			if err != nil {
				t.Fatal(err)
			}
			if got := pluginGauge(t, f.host, "go_sched_gomaxprocs_threads"); got != float64(want) {
				t.Errorf("plugin's GOMAXPROCS = %v, want %d", got, want)
			}
		})
	}
}

// pluginGauge reads one of the first plugin's metrics.
func pluginGauge(t *testing.T, h *Host, name string) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	pm := h.Metrics(ctx)
	if len(pm) == 0 || pm[0].Err != nil {
		t.Fatalf("plugin metrics: %+v", pm)
	}
	for _, m := range pm[0].Metrics {
		if m.Name == name {
			return m.Value
		}
	}
	t.Fatalf("plugin metrics have no %s", name)
	return 0
}
