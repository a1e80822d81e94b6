package sdk

import (
	"os"
	"runtime"
	"runtime/debug"

	"github.com/hashicorp/go-hclog"
)

// pluginGCPercent is a plugin process's GOGC unless its environment sets
// one. A protocol plugin keeps little live data (connections and their
// buffers) and allocates on every request; 400 makes the collector run a
// quarter as often for a heap up to five times the live data. GOGC and
// GOMEMLIMIT in the plugin's environment still win.
const pluginGCPercent = 400

// cpusPerProc is how many CPUs a plugin process gets one P (GOMAXPROCS)
// for by default; see pluginProcs.
const cpusPerProc = 4

// pluginProcs is a plugin process's GOMAXPROCS unless its environment sets
// one, given the runtime's own default (the CPUs the process may use,
// cgroup limits included): one P up to 7 CPUs, 2 at 8, 16 at 64.
//
// A protocol plugin is bound by I/O: it reads a request, hands it to the
// Seats session and writes the answer, so most of its CPU goes to socket
// system calls and goroutine hand-offs. With more than one P the Go
// scheduler wakes an idle thread on nearly every hand-off (futex wake-ups,
// spinning threads, cross-CPU wake-ups that are expensive on virtual
// machines), and that costs more than the parallelism gives back.
// Measured with `licensegw bench --clients 64` on a 2-CPU virtual
// machine: the concurrent-lm plugin spent 36.0 µs of CPU per request at
// GOMAXPROCS=2 and 24.9 µs at 1 (the whole system 98.3 and 76.4), with
// the same p99 or better, and at 1 it served 22,700 requests/s on about
// 57% of one CPU. A quarter of the CPUs keeps that economy on a large
// machine while leaving a busy plugin room to use more than one.
func pluginProcs(cpus int) int {
	return max(1, cpus/cpusPerProc)
}

// tuneRuntime applies pluginGCPercent and pluginProcs for what the
// plugin's environment leaves unset: GOGC, GOMAXPROCS (which the gateway
// passes from its own environment or from the plugin block's gomaxprocs)
// and GOMEMLIMIT always win. Setting GOMAXPROCS stops the runtime from
// following later changes of the process's CPU limit; the limit at the
// plugin's start is the one it keeps.
func tuneRuntime(log hclog.Logger) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(pluginGCPercent)
		log.Debug("garbage collector tuned", "GOGC", pluginGCPercent)
	}
	if os.Getenv("GOMAXPROCS") == "" {
		cpus := runtime.GOMAXPROCS(0)
		procs := pluginProcs(cpus)
		runtime.GOMAXPROCS(procs)
		log.Debug("scheduler tuned", "GOMAXPROCS", procs, "cpus", cpus)
	}
}
