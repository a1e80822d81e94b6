package sdk

import "runtime/metrics"

// processMetrics are the plugin process's own costs, reported beside its
// metrics so that the gateway's /metrics shows what each plugin process
// spends (licensegw_plugin_process_cpu_seconds_total and the go_* series):
// `licensegw bench` divides them by the requests it made.
func processMetrics() []Metric {
	samples := []metrics.Sample{
		{Name: "/gc/heap/allocs:objects"},
		{Name: "/gc/heap/allocs:bytes"},
		{Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/sched/goroutines:goroutines"},
		{Name: "/sched/gomaxprocs:threads"},
	}
	metrics.Read(samples)
	val := func(i int) float64 {
		if samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return float64(samples[i].Value.Uint64())
	}
	out := []Metric{
		{Name: "go_mallocs_total", Type: CounterType, Help: "Heap objects the plugin process allocated.", Value: val(0)},
		{Name: "go_alloc_bytes_total", Type: CounterType, Help: "Heap bytes the plugin process allocated.", Value: val(1)},
		{Name: "go_gc_cycles_total", Type: CounterType, Help: "Garbage collections the plugin process ran.", Value: val(2)},
		{Name: "go_heap_objects_bytes", Type: GaugeType, Help: "Heap bytes in live and not yet swept objects of the plugin process.", Value: val(3)},
		{Name: "go_goroutines", Type: GaugeType, Help: "Goroutines of the plugin process.", Value: val(4)},
		{Name: "go_sched_gomaxprocs_threads", Type: GaugeType, Help: "The plugin process's GOMAXPROCS: how many threads run Go code at once.", Value: val(5)},
	}
	if cpu, ok := processCPU(); ok {
		out = append(out, Metric{Name: "process_cpu_seconds_total", Type: CounterType, Help: "User and system CPU time the plugin process spent.", Value: cpu.Seconds()})
	}
	return out
}
