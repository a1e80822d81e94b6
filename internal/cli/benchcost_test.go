package cli

import (
	"strings"
	"testing"
	"time"
)

func TestParseCosts(t *testing.T) {
	before := parseCosts([]byte(`# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 10.5
go_memstats_mallocs_total 1e+06
licensegw_plugin_process_cpu_seconds_total{plugin="clm",protocol="concurrent-lm"} 2
licensegw_plugin_go_mallocs_total{plugin="clm",protocol="concurrent-lm"} 500000
licensegw_plugin_process_cpu_seconds_total{plugin="flex",protocol="flexlm"} 1
malformed
go_goroutines 12
`))
	after := parseCosts([]byte(`process_cpu_seconds_total 11.5
go_memstats_mallocs_total 1.4e+06
licensegw_plugin_process_cpu_seconds_total{plugin="clm",protocol="concurrent-lm"} 2.5
licensegw_plugin_go_mallocs_total{plugin="clm",protocol="concurrent-lm"} 600000
licensegw_plugin_process_cpu_seconds_total{plugin="flex",protocol="flexlm"} 1
`))
	before.self, after.self = time.Second, 1500*time.Millisecond
	got := after.sub(before).perRequest(10000)
	for _, want := range []string{
		"gateway 100.0, plugin clm 50.0, plugin flex 0.0, load generator 50.0; total 200.0",
		"allocs/request: gateway 40.0, plugin clm 10.0, plugin flex 0.0",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report %q lacks %q", got, want)
		}
	}
}
