package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/licensegw/licensegw/gateway/events"
)

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "gateway"},
		{Type: "admin"},
		{Type: "nats"},
		{Type: "signing"},
		{Type: "group", LabelNames: []string{"name"}},
		{Type: "host_group", LabelNames: []string{"name"}},
		{Type: "feature", LabelNames: []string{"name"}},
		{Type: "plugin", LabelNames: []string{"name"}},
		{Type: "import", LabelNames: []string{"format"}},
	},
}

// root decodes the whole file into c.
func (d *decoder) root(c *Config, body hcl.Body) {
	content := d.content(body, rootSchema)
	c.Gateway = d.gateway(d.single(content.Blocks, "gateway"))
	c.Admin = d.admin(d.single(content.Blocks, "admin"), c.Gateway.DataDir)
	c.NATS = d.nats(d.single(content.Blocks, "nats"), c.Gateway.DataDir)
	c.Signing = d.signing(d.single(content.Blocks, "signing"), c.Gateway.DataDir)

	// Groups first: features refer to them wherever they are in the file.
	c.Groups = d.groups(content.Blocks, "group", "users")
	c.HostGroups = d.groups(content.Blocks, "host_group", "hosts")
	refs := refs{groups: c.Groups, hostGroups: c.HostGroups}
	features := make(map[featureKey]hcl.Range)
	plugins := make(map[string]hcl.Range)
	for _, b := range content.Blocks {
		switch b.Type {
		case "feature":
			f, ok := d.feature(b, refs)
			if !ok {
				continue
			}
			key := featureKey{f.Vendor, f.Name, f.Version}
			if first, dup := features[key]; dup {
				d.errorf(b.DefRange, "Duplicate feature",
					"Feature %q of vendor %q at version %s is already defined at %s.", f.Name, f.Vendor, f.Version, first)
				continue
			}
			features[key] = b.DefRange
			c.Features = append(c.Features, f)
		case "plugin":
			p, ok := d.plugin(b)
			if !ok {
				continue
			}
			if first, dup := plugins[p.Name]; dup {
				d.errorf(b.LabelRanges[0], "Duplicate plugin",
					"A plugin named %q is already defined at %s.", p.Name, first)
				continue
			}
			plugins[p.Name] = b.DefRange
			c.Plugins = append(c.Plugins, p)
		}
	}
	c.featureRanges = features
	c.Imports = d.imports(content.Blocks)
}

type featureKey struct{ vendor, name, version string }

var gatewaySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "name"}, {Name: "data_dir"}, {Name: "log_level"}, {Name: "log_format"}, {Name: "expiry_warning_days"}},
}

func (d *decoder) gateway(b *hcl.Block) Gateway {
	g := Gateway{DataDir: DefaultDataDir, LogLevel: DefaultLogLevel, LogFormat: DefaultLogFormat,
		ExpiryWarning: DefaultExpiryWarningDays * 24 * time.Hour}
	if host, err := os.Hostname(); err == nil && host != "" {
		g.Name = host
	} else {
		g.Name = "licensegw"
	}
	if b != nil {
		a := d.content(b.Body, gatewaySchema).Attributes
		if d.str(a, "name", &g.Name) {
			if err := checkName(g.Name); err != nil {
				d.errorf(a["name"].Expr.Range(), "Invalid gateway name", "The gateway name %s.", err)
			}
		}
		if d.str(a, "data_dir", &g.DataDir) && g.DataDir == "" {
			d.errorf(a["data_dir"].Expr.Range(), "Invalid data directory", "The data directory must not be empty.")
		}
		if d.str(a, "log_level", &g.LogLevel) && !slices.Contains(LogLevels(), g.LogLevel) {
			d.errorf(a["log_level"].Expr.Range(), "Invalid log level",
				"The log level %q is not one of %s.", g.LogLevel, strings.Join(LogLevels(), ", "))
		}
		var days int
		if d.integer(a, "expiry_warning_days", &days) {
			if days < 0 || days > 3650 {
				d.errorf(a["expiry_warning_days"].Expr.Range(), "Invalid expiry warning",
					"expiry_warning_days is a number of days from 0 (no warnings) to 3650, not %d.", days)
			}
			g.ExpiryWarning = time.Duration(days) * 24 * time.Hour
		}
		if d.str(a, "log_format", &g.LogFormat) && !slices.Contains(LogFormats(), g.LogFormat) {
			d.errorf(a["log_format"].Expr.Range(), "Invalid log format",
				"The log format %q is not one of %s.", g.LogFormat, strings.Join(LogFormats(), ", "))
		}
	}
	g.DataDir = d.path(g.DataDir)
	return g
}

var adminSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "listen"}, {Name: "enabled"}, {Name: "token_file"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "token", LabelNames: []string{"name"}}, {Type: "tls"}},
}

func (d *decoder) admin(b *hcl.Block, dataDir string) Admin {
	a := Admin{Enabled: true, Listen: DefaultAdminListen, TokenFile: defaultIn("", dataDir, DefaultTokenFile)}
	if b == nil {
		return a
	}
	content := d.content(b.Body, adminSchema)
	attrs := content.Attributes
	if d.str(attrs, "token_file", &a.TokenFile) {
		if a.TokenFile == "" {
			d.errorf(attrs["token_file"].Expr.Range(), "Invalid token file",
				"The token file must not be empty; leave it out for %s in the data directory.", DefaultTokenFile)
		}
		a.TokenFile = defaultIn(d.path(a.TokenFile), dataDir, DefaultTokenFile)
	}
	a.Tokens = d.tokens(content.Blocks)
	a.TLS = d.tls(d.single(content.Blocks, "tls"))
	enabledSet := d.boolean(attrs, "enabled", &a.Enabled)
	if d.str(attrs, "listen", &a.Listen) {
		switch {
		case a.Listen == "" && enabledSet && a.Enabled:
			d.errorf(attrs["listen"].Expr.Range(), "Missing admin address",
				"The admin API is enabled but its listen address is empty; set one or set enabled = false.")
		case a.Listen != "":
			if err := checkAddr(a.Listen); err != nil {
				d.errorf(attrs["listen"].Expr.Range(), "Invalid listen address", "The admin listen address %s.", err)
			}
		}
	}
	if a.Listen == "" || !a.Enabled {
		a = Admin{}
	}
	return a
}

var natsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "embedded"}, {Name: "listen"}, {Name: "url"}, {Name: "credentials"},
		{Name: "prefix"}, {Name: "stream"}, {Name: "replicas"},
		{Name: "max_age"}, {Name: "max_bytes"}, {Name: "max_msgs"}, {Name: "audit_credentials"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "identity", LabelNames: []string{"name"}}, {Type: "tls"}, {Type: "cluster"}},
}

func (d *decoder) nats(b *hcl.Block, dataDir string) NATS {
	n := NATS{
		Embedded: true,
		Listen:   DefaultNATSListen,
		Prefix:   events.DefaultPrefix,
		Stream:   events.DefaultStream,
		Replicas: DefaultReplicas,
	}
	if b == nil {
		n.AuditCredentials = defaultIn("", dataDir, DefaultAuditCredentials)
		return n
	}
	content := d.content(b.Body, natsSchema)
	a := content.Attributes
	embeddedSet := d.boolean(a, "embedded", &n.Embedded)
	urlSet := d.str(a, "url", &n.URL)
	switch {
	case urlSet && n.URL == "":
		d.errorf(a["url"].Expr.Range(), "Invalid NATS URL", "The NATS URL must not be empty; leave it out to run the embedded server.")
	case urlSet && embeddedSet && n.Embedded:
		d.errorf(a["embedded"].Expr.Range(), "Conflicting NATS settings",
			"embedded = true runs an in-process NATS server, but url (at %s) names an existing one; set one or the other.",
			a["url"].Expr.Range())
	case urlSet:
		n.Embedded = false
		for u := range strings.SplitSeq(n.URL, ",") {
			if err := checkNATSURL(strings.TrimSpace(u)); err != nil {
				d.errorf(a["url"].Expr.Range(), "Invalid NATS URL", "The NATS URL %s.", err)
				break
			}
		}
	case embeddedSet && !n.Embedded:
		d.errorf(a["embedded"].Expr.Range(), "Missing NATS URL",
			"embedded = false needs url, the address of the NATS server to use.")
	}
	if d.str(a, "listen", &n.Listen) && n.Listen != "" {
		if err := checkAddr(n.Listen); err != nil {
			d.errorf(a["listen"].Expr.Range(), "Invalid listen address", "The NATS listen address %s.", err)
		}
	}
	if !n.Embedded {
		n.Listen = ""
	}
	if d.str(a, "credentials", &n.Credentials) {
		n.Credentials = d.path(n.Credentials)
	}
	if d.str(a, "prefix", &n.Prefix) {
		if err := checkSubjectPrefix(n.Prefix); err != nil {
			d.errorf(a["prefix"].Expr.Range(), "Invalid subject prefix", "The prefix %s.", err)
		}
	}
	if d.str(a, "stream", &n.Stream) {
		if err := checkStreamName(n.Stream); err != nil {
			d.errorf(a["stream"].Expr.Range(), "Invalid stream name", "The stream name %s.", err)
		}
	}
	n.Cluster = d.natsCluster(d.single(content.Blocks, "cluster"))
	d.replicas(a, &n)
	if d.duration(a, "max_age", &n.MaxAge) && n.MaxAge > 0 && n.MaxAge < time.Minute {
		d.errorf(a["max_age"].Expr.Range(), "Invalid max_age", "Events are kept at least a minute (snapshots are taken every minute), not %s.", n.MaxAge)
	}
	d.size(a, "max_bytes", &n.MaxBytes)
	if d.integer(a, "max_msgs", &n.MaxMsgs) && n.MaxMsgs < 0 {
		d.errorf(a["max_msgs"].Expr.Range(), "Invalid max_msgs", "A message count is 0 (no limit) or more, not %d.", n.MaxMsgs)
	}
	d.natsAuth(content, &n, dataDir)
	return n
}

// checkNATSURL checks one server URL of nats.url.
func checkNATSURL(s string) error {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return fmt.Errorf("%q is not a URL such as nats://host:4222", s)
	}
	switch scheme {
	case "nats", "tls", "ws", "wss":
	default:
		return fmt.Errorf("%q has scheme %q; use nats, tls, ws or wss", s, scheme)
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		rest = rest[at+1:]
	}
	host, _, _ := strings.Cut(rest, "/")
	if host == "" {
		return fmt.Errorf("%q names no host", s)
	}
	return nil
}

var signingSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "enabled"}, {Name: "key_file"}},
}

func (d *decoder) signing(b *hcl.Block, dataDir string) Signing {
	s := Signing{Enabled: true, KeyFile: filepath.Join(dataDir, DefaultKeyFile)}
	if b == nil {
		return s
	}
	a := d.content(b.Body, signingSchema).Attributes
	d.boolean(a, "enabled", &s.Enabled)
	if d.str(a, "key_file", &s.KeyFile) {
		if s.KeyFile == "" {
			d.errorf(a["key_file"].Expr.Range(), "Invalid key file", "The key file must not be empty; leave it out for %s in the data directory.", DefaultKeyFile)
		}
		s.KeyFile = d.path(s.KeyFile)
	}
	return s
}

// groups decodes the group or host_group blocks, whose one attribute member
// lists users or hosts.
func (d *decoder) groups(blocks hcl.Blocks, typ, member string) map[string][]string {
	schema := &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: member, Required: true}}}
	out := make(map[string][]string)
	first := make(map[string]hcl.Range)
	for _, b := range blocks {
		if b.Type != typ {
			continue
		}
		name := b.Labels[0]
		a := d.content(b.Body, schema).Attributes
		var members []string
		if d.strings(a, member, &members) {
			for i, m := range members {
				if m == "" {
					d.errorf(elemRange(a[member].Expr, i), "Invalid "+strings.TrimSuffix(member, "s"), "The names in %q must not be empty.", member)
				}
			}
		}
		if err := checkName(name); err != nil {
			d.errorf(b.LabelRanges[0], "Invalid "+typ+" name", "The %s name %s.", typ, err)
			continue
		}
		if at, dup := first[name]; dup {
			d.errorf(b.LabelRanges[0], "Duplicate "+typ,
				"A %s named %q is already defined at %s.", typ, name, at)
			continue
		}
		first[name] = b.DefRange
		out[name] = members
	}
	return out
}
