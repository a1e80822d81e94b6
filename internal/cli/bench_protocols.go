package cli

import (
	"context"

	"github.com/licensegw/licensegw/plugins/concurrentlm/loadgen"
	flexload "github.com/licensegw/licensegw/plugins/flexlm/loadgen"
	sentinelload "github.com/licensegw/licensegw/plugins/sentinel/loadgen"
)

// kinds are the runs of a bench, in the order each round runs them: every
// protocol's echo baseline just before the gateway runs compared with it.
func (c *benchCommand) kinds() []*benchKind {
	var ks []*benchKind
	if !c.noEcho {
		ks = append(ks, &benchKind{name: "echo", echo: true, run: loadgen.Echo})
	}
	ks = append(ks,
		&benchKind{name: "gateway", run: loadgen.Run, plugin: "concurrentlm", baseline: "echo"},
		&benchKind{name: "signed", run: func(ctx context.Context, o loadgen.Options) (loadgen.Report, error) {
			o.Nonce = true
			return loadgen.Run(ctx, o)
		}, plugin: "concurrentlm", baseline: "echo"},
		// The plugin answers PING itself: what its client handling costs
		// without the gateway, the floor under the two runs above.
		&benchKind{name: "ping", run: loadgen.Ping, plugin: "concurrentlm", baseline: "echo"},
	)
	if c.flexlm != "" {
		if !c.noEcho {
			ks = append(ks, &benchKind{name: "tcp-echo", echo: true, run: flexload.Echo})
		}
		ks = append(ks, &benchKind{name: "flexlm", run: at(c.flexlm, flexload.Run), plugin: "flexlm", baseline: "tcp-echo"})
	}
	if c.sentinel != "" {
		if !c.noEcho {
			ks = append(ks, &benchKind{name: "udp-echo", echo: true, run: sentinelload.Echo})
		}
		ks = append(ks, &benchKind{name: "sentinel", run: at(c.sentinel, sentinelload.Run), plugin: "sentinel", baseline: "udp-echo"})
	}
	return ks
}

// at is run aimed at addr instead of the concurrent-lm address.
func at(addr string, run func(context.Context, loadgen.Options) (loadgen.Report, error)) func(context.Context, loadgen.Options) (loadgen.Report, error) {
	return func(ctx context.Context, o loadgen.Options) (loadgen.Report, error) {
		o.Addr = addr
		return run(ctx, o)
	}
}
