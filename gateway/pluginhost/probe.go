package pluginhost

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/sdk"
)

// ProbeSpec says how to start a plugin binary to ask it questions.
type ProbeSpec struct {
	Path   string
	Args   []string
	SHA256 string // "" checks nothing
	Dir    string // the working directory: the configuration file's
	Log    hclog.Logger
}

// Probe is a plugin process started only to be asked, never configured:
// its Info, the policy of vendor files (Import), checks of a config block
// (ValidateConfig). The gateway starts one per plugin at start, validate
// and reload, and closes it when it has its answers; it serves nothing.
type Probe struct {
	p    *process
	info sdk.Info
}

// OpenProbe starts the plugin binary and asks its Info. A plugin that
// shares no API version with the gateway is an ErrAPIVersion error (the
// Info is returned too, for the message).
func OpenProbe(ctx context.Context, s ProbeSpec) (*Probe, error) {
	log := s.Log
	if log == nil {
		log = hclog.NewNullLogger()
	}
	p, err := launch(ctx, command{path: s.Path, dir: s.Dir, args: s.Args, sum: s.SHA256}, log)
	if err != nil {
		return nil, err
	}
	info, err := p.remote.Info(ctx)
	if err != nil {
		p.kill()
		return nil, err
	}
	if _, err := negotiate(info); err != nil {
		p.kill()
		return &Probe{info: info}, fmt.Errorf("%s: %w", s.Path, err)
	}
	return &Probe{p: p, info: info}, nil
}

// Info is the plugin's self-description. It is safe on a nil Probe.
func (p *Probe) Info() sdk.Info {
	if p == nil {
		return sdk.Info{}
	}
	return p.info
}

// Import asks the plugin for the policy of vendor files. A plugin without
// importers answers sdk.ErrUnsupported.
func (p *Probe) Import(ctx context.Context, req sdk.ImportRequest) (*sdk.ImportResult, error) {
	if !p.info.Can(sdk.CapImport) {
		return nil, fmt.Errorf("plugin %s: %w", p.info.Name, sdk.ErrUnsupported)
	}
	return p.p.remote.Import(ctx, req)
}

// ValidateConfig asks the plugin to check a config block; a plugin
// without checks has nothing to say.
func (p *Probe) ValidateConfig(ctx context.Context, req sdk.ValidateRequest) ([]sdk.Diagnostic, error) {
	if !p.info.Can(sdk.CapValidateConfig) {
		return nil, nil
	}
	return p.p.remote.ValidateConfig(ctx, req)
}

// Close kills the process. It is safe on a nil or failed Probe.
func (p *Probe) Close() {
	if p != nil && p.p != nil {
		p.p.kill()
	}
}
