package sdk

import (
	"os"
	"runtime/debug"
)

// pluginGCPercent is a plugin process's GOGC unless its environment sets
// one. A protocol plugin keeps little live data (connections and their
// buffers) and allocates on every request; 400 makes the collector run a
// quarter as often for a heap up to five times the live data. GOGC and
// GOMEMLIMIT in the plugin's environment still win.
const pluginGCPercent = 400

// tuneGC applies pluginGCPercent when GOGC is not set.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(pluginGCPercent)
	}
}
