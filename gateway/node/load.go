package node

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/pluginhost"
	"github.com/licensegw/licensegw/sdk"
)

// Option adjusts how a node loads its configuration.
type Option func(*options)

type options struct {
	// importers: import format -> plugin executable, for import blocks no
	// plugin block of the configuration provides.
	importers map[string]string
	// nats is an embedded server kept running from before (WithKept).
	nats *natsd.Server
	// following is called when a clustered node serves as a follower
	// (WithFollowing).
	following func()
	// holdOff delays a clustered node's first try for the lease
	// (WithHoldOff).
	holdOff time.Duration
	// member is a clustered node's serving part kept from before
	// (WithKept).
	member *member
}

// WithImporters names the plugin executables that provide import formats
// when no plugin block of the configuration does (the plugins installed
// with the gateway, so that an import "flexlm" { } block works without a
// flexlm plugin block). The composition root (the CLI) knows them; the
// node only runs them.
func WithImporters(byFormat map[string]string) Option {
	return func(o *options) { o.importers = maps.Clone(byFormat) }
}

func newOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// loader is one loading of the configuration: the plugin processes it
// started to ask (kept until close), and what they said.
type loader struct {
	cfg    *config.Config
	log    hclog.Logger
	opts   options
	probes []*pluginhost.Probe
	// byPath are the probes of plugins started for import blocks only.
	byPath map[string]*pluginhost.Probe
	diags  hcl.Diagnostics
}

func (l *loader) close() {
	for _, p := range l.probes {
		p.Close()
	}
}

func (l *loader) errorf(rng hcl.Range, summary, format string, args ...any) {
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: rng.Ptr(),
	})
}

// prepared is an enabled plugin block as its plugin understood it.
type prepared struct {
	plugin config.Plugin
	probe  *pluginhost.Probe
	config sdk.Config
	// sources are the files its own import read, absolute.
	sources []string
}

// plugins asks each enabled plugin for its description, decodes its config
// block with the schema it declared, has the plugin check the block
// (sdk.ConfigValidator) and import the files it names (sdk.Importer).
func (l *loader) plugins(ctx context.Context) ([]prepared, []config.Imported) {
	dir := filepath.Dir(l.cfg.File)
	var out []prepared
	var imported []config.Imported
	for _, p := range l.cfg.Plugins {
		if !p.Enabled {
			continue
		}
		probe, err := pluginhost.OpenProbe(ctx, pluginhost.ProbeSpec{
			Path: p.Path, Args: p.Args, SHA256: p.SHA256, Dir: dir, Log: l.log.Named("plugin").Named(p.Name),
		})
		if err != nil {
			l.errorf(p.DeclRange, "Plugin did not start", "Plugin %q (%s): %v", p.Name, p.Path, err)
			continue
		}
		l.probes = append(l.probes, probe)
		values, d := config.DecodePluginConfig(p.Config, probe.Info().Config)
		l.diags = append(l.diags, d...)
		if d.HasErrors() {
			continue
		}
		checks, err := probe.ValidateConfig(ctx, sdk.ValidateRequest{Name: p.Name, Config: values, Dir: dir})
		if err != nil {
			l.errorf(p.DeclRange, "Plugin did not check its configuration", "Plugin %q (%s): %v", p.Name, p.Path, err)
			continue
		}
		d = config.PluginDiagnostics(p, checks)
		l.diags = append(l.diags, d...)
		if d.HasErrors() {
			continue
		}
		pp := prepared{plugin: p, probe: probe, config: values}
		if probe.Info().Can(sdk.CapImport) {
			res, err := probe.Import(ctx, sdk.ImportRequest{Name: p.Name, Config: values, Dir: dir})
			if err != nil {
				l.errorf(p.DeclRange, "Import failed", "Plugin %q (%s): %v", p.Name, p.Path, err)
				continue
			}
			pp.sources = sourcePaths(dir, res)
			imported = append(imported, config.Imported{
				Origin: fmt.Sprintf("plugin %q", p.Name), Block: p.DeclRange, Body: p.Config, Result: res,
			})
		}
		out = append(out, pp)
	}
	return out, imported
}

// imports runs each import "<format>" block through the plugin providing
// the format: the configuration's first plugin that declares it, else the
// executable WithImporters names for it. A block reading exactly the files
// the same plugin's own block already imported is skipped: configurations
// written before plugins imported their own files name them twice.
func (l *loader) imports(ctx context.Context, plugins []prepared) []config.Imported {
	dir := filepath.Dir(l.cfg.File)
	var out []config.Imported
	for _, imp := range l.cfg.Imports {
		probe, own := l.importer(ctx, imp, plugins)
		if probe == nil {
			continue
		}
		format := importFormat(probe.Info(), imp.Format)
		values, d := config.DecodePluginConfig(imp.Body, format.Config)
		l.diags = append(l.diags, d...)
		if d.HasErrors() {
			continue
		}
		res, err := probe.Import(ctx, sdk.ImportRequest{Format: imp.Format, Config: values, Dir: dir})
		if err != nil {
			l.errorf(imp.DeclRange, "Import failed", "The %q import (plugin %s): %v", imp.Format, probe.Info().Name, err)
			continue
		}
		if own != nil && len(own.sources) > 0 && slices.Equal(own.sources, sourcePaths(dir, res)) {
			continue
		}
		out = append(out, config.Imported{
			Origin: fmt.Sprintf("the %s import", imp.Format), Block: imp.DeclRange, Body: imp.Body, Result: res,
		})
	}
	return out
}

// importer finds the plugin that provides imp's format; own is its plugin
// block when the configuration has one.
func (l *loader) importer(ctx context.Context, imp config.Import, plugins []prepared) (*pluginhost.Probe, *prepared) {
	var formats []string
	for i := range plugins {
		info := plugins[i].probe.Info()
		if importFormat(info, imp.Format) != nil {
			return plugins[i].probe, &plugins[i]
		}
		for _, f := range info.Imports {
			formats = append(formats, f.Name)
		}
	}
	if path, ok := l.opts.importers[imp.Format]; ok {
		if p := l.byPath[path]; p != nil {
			return p, nil
		}
		probe, err := pluginhost.OpenProbe(ctx, pluginhost.ProbeSpec{Path: path, Dir: filepath.Dir(l.cfg.File), Log: l.log.Named("import")})
		if err != nil {
			l.errorf(imp.FormatRange, "Importer did not start", "The %q format's plugin (%s): %v", imp.Format, path, err)
			return nil, nil
		}
		l.probes = append(l.probes, probe)
		if importFormat(probe.Info(), imp.Format) == nil {
			l.errorf(imp.FormatRange, "Unknown import format", "The plugin %s does not import %q.", path, imp.Format)
			return nil, nil
		}
		if l.byPath == nil {
			l.byPath = map[string]*pluginhost.Probe{}
		}
		l.byPath[path] = probe
		return probe, nil
	}
	known := slices.Sorted(maps.Keys(l.opts.importers))
	known = slices.Compact(slices.Sorted(slices.Values(append(known, formats...))))
	l.errorf(imp.FormatRange, "Unknown import format",
		"No plugin imports %q. The formats known here: %s. A plugin that imports files reads them from its own block, e.g. plugin \"flexlm\" { config { license_file = \"...\" } }.",
		imp.Format, strings.Join(known, ", "))
	return nil, nil
}

// importFormat is info's description of format, or nil.
func importFormat(info sdk.Info, format string) *sdk.ImportFormat {
	for i := range info.Imports {
		if info.Imports[i].Name == format {
			return &info.Imports[i]
		}
	}
	return nil
}

// sourcePaths are the files an import read, absolute and sorted.
func sourcePaths(dir string, res *sdk.ImportResult) []string {
	var out []string
	for _, s := range res.Sources {
		p := s.Name
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		out = append(out, filepath.Clean(p))
	}
	slices.Sort(out)
	return out
}
