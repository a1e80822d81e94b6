package cli

import (
	"runtime/debug"

	"github.com/hashicorp/go-hclog"
)

// gatewayGCPercent is the gateway's GOGC unless the environment sets one.
// Its live heap is small (tens of MB: the engine's tables) while every
// request allocates, so with Go's default of 100 the collector runs
// several times a second and, with its assists, took 18-19% of the
// gateway's CPU under load; 400 cuts collections about four-fold for a
// heap up to five times the live data. GOGC and GOMEMLIMIT still win.
const gatewayGCPercent = 400

// tuneGC applies gatewayGCPercent when GOGC is not set.
func tuneGC(e *env, log hclog.Logger) {
	if e.getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(gatewayGCPercent)
	log.Debug("garbage collector tuned", "GOGC", gatewayGCPercent)
}
