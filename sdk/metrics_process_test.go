package sdk

import (
	"runtime"
	"strings"
	"testing"
)

func TestProcessMetrics(t *testing.T) {
	value := func(ms []Metric, name string) (float64, bool) {
		for _, m := range ms {
			if m.Name == name {
				return m.Value, true
			}
		}
		return 0, false
	}
	before := processMetrics()
	// The runtime counts small allocations when their span leaves the
	// thread's cache, so the counter may lag by part of a span (128
	// objects of 64 bytes): allocate twice what is asked for.
	var sink [][]byte
	for range 2000 {
		sink = append(sink, make([]byte, 64))
	}
	// Small allocations are counted when a P's cache is flushed, which a
	// collection does for every P (under -race the counts lag otherwise).
	runtime.GC()
	runtime.KeepAlive(sink)
	after := processMetrics()
	b, _ := value(before, "go_mallocs_total")
	a, ok := value(after, "go_mallocs_total")
	if !ok || a-b < 1000 {
		t.Errorf("go_mallocs_total went from %v to %v over 2000 allocations, want at least 1000 more", b, a)
	}
	for _, name := range []string{"go_alloc_bytes_total", "go_gc_cycles_total", "go_heap_objects_bytes", "go_goroutines", "go_sched_gomaxprocs_threads", "process_cpu_seconds_total"} {
		if _, ok := value(after, name); !ok && (name != "process_cpu_seconds_total" || runtime.GOOS == "linux") {
			t.Errorf("no %s", name)
		}
	}
	if v, _ := value(after, "go_sched_gomaxprocs_threads"); v != float64(runtime.GOMAXPROCS(0)) {
		t.Errorf("go_sched_gomaxprocs_threads = %v, want GOMAXPROCS %d", v, runtime.GOMAXPROCS(0))
	}
	for _, m := range after {
		if !metricName.MatchString(m.Name) || (m.Type == CounterType) != strings.HasSuffix(m.Name, "_total") || m.Help == "" {
			t.Errorf("malformed sample %+v", m)
		}
	}
}
