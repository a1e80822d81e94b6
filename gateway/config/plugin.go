package config

import (
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

var pluginSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "path", Required: true}, {Name: "sha256"}, {Name: "args"},
		{Name: "listen"}, {Name: "enabled"}, {Name: "allow"}, {Name: "status_allow"},
		{Name: "gomaxprocs"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "config"}},
}

// plugin decodes a plugin "<name>" block. It reports false when the name
// is unusable.
func (d *decoder) plugin(b *hcl.Block) (Plugin, bool) {
	p := Plugin{Name: b.Labels[0], Enabled: true, DeclRange: b.DefRange}
	ok := true
	if err := checkName(p.Name); err != nil {
		d.errorf(b.LabelRanges[0], "Invalid plugin name", "The plugin name %s.", err)
		ok = false
	}
	content := d.content(b.Body, pluginSchema)
	a := content.Attributes
	d.boolean(a, "enabled", &p.Enabled)

	if d.str(a, "path", &p.Path) {
		if p.Path == "" {
			d.errorf(a["path"].Expr.Range(), "Invalid plugin path", "The plugin's path must not be empty.")
		} else {
			p.Path = d.path(p.Path)
			// A disabled plugin need not be installed.
			if p.Enabled {
				d.checkExecutable(p.Path, a["path"].Expr.Range())
			}
		}
	}
	if d.str(a, "sha256", &p.SHA256) {
		p.SHA256 = strings.ToLower(p.SHA256)
		if _, err := hex.DecodeString(p.SHA256); err != nil || len(p.SHA256) != 64 {
			d.errorf(a["sha256"].Expr.Range(), "Invalid checksum",
				"The sha256 checksum is 64 hexadecimal digits, such as the output of sha256sum.")
			p.SHA256 = ""
		}
	}
	d.strings(a, "args", &p.Args)
	if d.stringMap(a, "listen", &p.Listen) {
		for name, addr := range p.Listen {
			rng := mapValueRange(a["listen"].Expr, d.ctx, name)
			if name == "" {
				d.errorf(a["listen"].Expr.Range(), "Invalid listener name", "A listener name must not be empty.")
			} else if err := checkAddr(addr); err != nil {
				d.errorf(rng, "Invalid listen address", "The %s listener's address %s.", name, err)
			}
		}
	}
	if d.integer(a, "gomaxprocs", &p.GOMAXPROCS) && p.GOMAXPROCS < 1 {
		d.errorf(a["gomaxprocs"].Expr.Range(), "Invalid gomaxprocs",
			"gomaxprocs, the threads that run the plugin's Go code at once, is at least 1; leave it out for the default (a quarter of the CPUs, at least 1).")
		p.GOMAXPROCS = 0
	}
	p.Allow = d.allowList(a, "allow")
	p.StatusAllow = d.allowList(a, "status_allow")

	if cb := d.single(content.Blocks, "config"); cb != nil {
		p.Config = cb.Body
	} else {
		// An empty body that points at the plugin block, so that "missing
		// required argument" errors say which plugin.
		p.Config = &hclsyntax.Body{
			Attributes: hclsyntax.Attributes{},
			SrcRange:   b.DefRange,
			EndRange:   b.DefRange,
		}
	}
	return p, ok
}

// checkExecutable reports at rng when path is not an executable file.
func (d *decoder) checkExecutable(path string, rng hcl.Range) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d.errorf(rng, "Plugin executable not found", "There is no file at %s.", path)
	case err != nil:
		d.errorf(rng, "Plugin executable not found", "Cannot use the plugin's executable: %v.", err)
	case fi.IsDir():
		d.errorf(rng, "Plugin executable not found", "%s is a directory, not an executable file.", path)
	case fi.Mode().Perm()&0o111 == 0:
		d.errorf(rng, "Plugin not executable", "%s is not executable (mode %s).", path, fi.Mode().Perm())
	}
}
