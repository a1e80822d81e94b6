package sdk

import (
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// EnvLogLevel names the environment variable through which the host tells
// a plugin process its log level (trace, debug, info, warn, error); the
// host filters again, so this only saves needless output.
const EnvLogLevel = "LICENSEGW_PLUGIN_LOG"

// parentPollInterval is how often a plugin checks that its gateway lives.
const parentPollInterval = time.Second

// Serve runs p as a plugin process; it is the whole of a plugin's main:
//
//	func main() { sdk.Serve(myprotocol.New()) }
//
// Serve speaks go-plugin's handshake on stdout and logs JSON to stderr,
// which the gateway re-logs under the plugin's name. Started by hand
// rather than by a gateway, it prints a notice and exits.
//
// Serve tunes the Go runtime for an I/O-bound plugin before anything
// runs: GOGC 400 and GOMAXPROCS a quarter of the CPUs the process may use
// (at least 1), each unless the environment sets it (the gateway passes
// its own GOGC, GOMEMLIMIT and GOMAXPROCS, and a plugin block's
// gomaxprocs). A plugin whose requests need much CPU of their own may call
// runtime.GOMAXPROCS in its Protocol.Serve, which runs after the tuning.
//
// The process exits by itself when its gateway goes away (its parent
// process changes or the Seats session breaks) and when Protocol.Serve
// returns without having been stopped, so that the gateway restarts it.
func Serve(p Protocol) {
	log := hclog.New(&hclog.LoggerOptions{
		Level:      hclog.LevelFromString(os.Getenv(EnvLogLevel)),
		Output:     os.Stderr,
		JSONFormat: true,
	})
	if log.GetLevel() == hclog.NoLevel {
		log.SetLevel(hclog.Info)
	}
	exit := func(code int, why string) {
		if code == 0 {
			log.Info("plugin exiting", "reason", why)
		} else {
			log.Error("plugin exiting", "reason", why)
		}
		os.Exit(code)
	}
	tuneRuntime(log)
	go watchParent(os.Getppid(), exit)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake(),
		Plugins:         plugin.PluginSet{PluginName: &GRPCPlugin{Impl: p, Logger: log, exit: exit}},
		GRPCServer:      plugin.DefaultGRPCServer,
		Logger:          log,
	})
}

// watchParent exits when the parent process is no longer ppid: the gateway
// died and the plugin was re-parented. This backs up the host's
// Pdeathsig, which does not exist on every system.
func watchParent(ppid int, exit func(int, string)) {
	t := time.NewTicker(parentPollInterval)
	defer t.Stop()
	for range t.C {
		if os.Getppid() != ppid {
			exit(2, "the gateway process is gone")
			return
		}
	}
}
