package pluginhost

import (
	"context"
	"sync"

	"github.com/licensegw/licensegw/sdk"
)

// PluginMetrics is one plugin instance's own metrics (sdk.Env.Metrics).
type PluginMetrics struct {
	Name     string // the instance name
	Protocol string
	Metrics  []sdk.Metric
	Err      error // the plugin did not answer; Metrics is empty
}

// Metrics asks every running plugin for its metrics, all at once, each
// bounded by ctx. A plugin that is not running is left out: its counters
// died with its process.
func (h *Host) Metrics(ctx context.Context) []PluginMetrics {
	h.mu.Lock()
	insts := h.instances
	h.mu.Unlock()
	out := make([]PluginMetrics, len(insts))
	var wg sync.WaitGroup
	for i, in := range insts {
		in.mu.Lock()
		p := in.proc
		in.mu.Unlock()
		out[i] = PluginMetrics{Name: in.spec.Name, Protocol: in.spec.Info.Name}
		if p == nil {
			continue
		}
		wg.Go(func() { out[i].Metrics, out[i].Err = p.remote.Metrics(ctx) })
	}
	wg.Wait()
	return out
}
