package config

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/licensegw/licensegw/gateway/seats"
)

// Defaults of the gateway's own settings.
const (
	DefaultDataDir     = "./data"
	DefaultLogLevel    = "info"
	DefaultLogFormat   = "text"
	DefaultAdminListen = "127.0.0.1:7648"
	DefaultNATSListen  = "127.0.0.1:4222"
	DefaultReplicas    = 1
	DefaultVersion     = "1.0"           // a feature's version when it names none
	DefaultKeyFile     = "signing.key"   // in the data directory
	MinLeaseTTL        = 5 * time.Second // the shortest lease_ttl accepted
	// DefaultExpiryWarningDays is gateway.expiry_warning_days when unset:
	// how many days before a licence expires it counts as expiring.
	DefaultExpiryWarningDays = 30
)

// LogLevels are the accepted values of gateway.log_level, most verbose first.
func LogLevels() []string { return []string{"trace", "debug", "info", "warn", "error"} }

// LogFormats are the accepted values of gateway.log_format: go-hclog's
// text lines, or one JSON object per line for log shippers.
func LogFormats() []string { return []string{"text", "json"} }

// Config is a decoded and validated configuration file.
type Config struct {
	File       string // the configuration file, absolute
	Gateway    Gateway
	Admin      Admin
	NATS       NATS
	Signing    Signing
	Groups     map[string][]string // user groups: name -> user names
	HostGroups map[string][]string // host groups: name -> host names
	Features   []seats.Feature
	Plugins    []Plugin
	// Imports are the import "<format>" { } blocks, in file order. The
	// plugin that provides each format turns its files into policy, which
	// ApplyImports merges in.
	Imports []Import

	// Warnings are the diagnostics that do not make the configuration
	// invalid: what it asks for and the gateway does not honour (lines
	// of an imported licence file, say), in source order.
	Warnings hcl.Diagnostics

	files map[string]*hcl.File
	// shownDir is the configuration file's directory as the caller named
	// it, for naming imported files in diagnostics.
	shownDir      string
	featureRanges map[featureKey]hcl.Range // where each feature is defined
}

// Gateway is the gateway { } block.
type Gateway struct {
	Name      string // default: the host name
	DataDir   string // absolute
	LogLevel  string // one of LogLevels; LICENSEGW_LOG overrides it (the caller's job)
	LogFormat string // one of LogFormats; LICENSEGW_LOG_FORMAT overrides it (the caller's job)
	// ExpiryWarning is how long before its expiry a feature is expiring
	// (an `expiring` lifecycle message, a metric, a mark in status);
	// expiry_warning_days = 0 turns the warnings off.
	ExpiryWarning time.Duration
}

// Admin is the admin { } block: the admin API's listener and who may use it.
type Admin struct {
	Enabled bool
	Listen  string // host:port; "" when disabled
	// TokenFile holds the token the gateway makes at first start (name
	// AdminTokenName, scope write); absolute.
	TokenFile string
	Tokens    []Token // the token blocks, by hash
	TLS       TLS     // zero: plain HTTP
}

// NATS is the nats { } block.
type NATS struct {
	Embedded    bool   // run an in-process nats-server (default) rather than connect to URL
	Listen      string // the embedded server's client address; "" means in-process connections only
	URL         string // an existing NATS server or cluster (comma-separated URLs), when not Embedded
	Credentials string // an nkey seed or JWT .creds file for URL, absolute; "" when not set
	Prefix      string // subject prefix (events.DefaultPrefix)
	Stream      string // JetStream stream name (events.DefaultStream)
	Replicas    int    // stream replicas, 1 to 5; 1 when Embedded without Cluster
	// Cluster makes the embedded server a node of a NATS cluster; nil
	// for a single server (or when not Embedded).
	Cluster *NATSCluster
	// Retention: events older than MaxAge, or the oldest while the stream
	// holds more than MaxBytes or MaxMsgs messages, are deleted once
	// snapshots include them (in a cluster: the snapshot store's). 0
	// keeps everything. The lifecycle stream gets the same limits.
	MaxAge   time.Duration
	MaxBytes int64
	MaxMsgs  int

	// The embedded server's listener (natsauth.go): the seed file of the
	// read-only audit identity made at first start ("" for none), the
	// identities declared by public key, and TLS. Empty with URL.
	AuditCredentials string
	Identities       []NATSIdentity
	TLS              TLS
}

// Signing is the signing { } block: the Ed25519 key grants are signed with.
type Signing struct {
	Enabled bool
	KeyFile string // absolute; created at first start when missing
}

// Plugin is one plugin "<name>" { } block.
type Plugin struct {
	Name    string
	Path    string            // the executable, absolute
	SHA256  string            // lower-case hex, "" when not set
	Args    []string          // nil when not set
	Listen  map[string]string // listener name -> address; overrides the plugin's defaults; nil when not set
	Enabled bool
	// Allow and StatusAllow are the clients that may reach the plugin and
	// those that may also ask status queries: validated entries in
	// sdk.ParseAllowEntry syntax, nil when not set (every address).
	Allow       []string
	StatusAllow []string
	// GOMAXPROCS is the plugin process's GOMAXPROCS, 0 when not set (the
	// gateway's GOMAXPROCS environment variable, else the SDK's default).
	GOMAXPROCS int
	// Config is the plugin's own config { } block, undecoded: the plugin
	// host decodes it with DecodePluginConfig and the plugin's schema. It
	// is an empty body (never nil) when the block is absent.
	Config    hcl.Body
	DeclRange hcl.Range // the plugin "<name>" header, for diagnostics about the plugin
}

// Load reads, decodes and validates the configuration file at path. It
// reports every error it finds, each with the source range it is about.
//
// The returned Config is never nil, so that its Files can be handed to
// WriteDiagnostics; when diags has errors, nothing else in it may be used.
func Load(path string) (*Config, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return &Config{File: absPath(path)}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Failed to read configuration",
			Detail:   err.Error(),
		}}
	}
	return Parse(path, src)
}

// Parse decodes and validates a configuration file's contents. filename
// names it in diagnostics, and relative paths in it (data_dir, plugin paths,
// key and credentials files) are relative to filename's directory.
// Plugin executables are looked for on the file system.
//
// Like Load, Parse always returns a Config whose Files are usable.
func Parse(filename string, src []byte) (*Config, hcl.Diagnostics) {
	c := &Config{File: absPath(filename)}
	file, diags := parseFile(filename, src)
	if file != nil {
		c.files = map[string]*hcl.File{filename: file}
	}
	if diags.HasErrors() {
		return c, diags
	}
	d := &decoder{dir: filepath.Dir(c.File), shown: filepath.Dir(filename), ctx: evalContext()}
	c.shownDir = d.shown
	d.append(diags)
	d.root(c, file.Body)
	sortDiagnostics(d.diags)
	for _, diag := range d.diags {
		if diag.Severity != hcl.DiagError {
			c.Warnings = append(c.Warnings, diag)
		}
	}
	return c, d.diags
}

// addSource keeps the text of a file the configuration read besides its
// own (an imported licence file), so that diagnostics show its lines.
func (c *Config) addSource(name string, src []byte) {
	if c.files == nil {
		c.files = map[string]*hcl.File{}
	}
	c.files[name] = &hcl.File{Bytes: src}
}

// Files returns the parsed files by name, for WriteDiagnostics. It is safe
// to call on a nil Config.
func (c *Config) Files() map[string]*hcl.File {
	if c == nil {
		return nil
	}
	return c.files
}

// Engine returns the accounting engine's configuration: the features, groups
// and host groups. The slices and maps are the engine's own copies at the top
// level; the features' policy slices are shared and must not be modified.
func (c *Config) Engine() seats.Config {
	return seats.Config{
		Features:   slices.Clone(c.Features),
		Groups:     maps.Clone(c.Groups),
		HostGroups: maps.Clone(c.HostGroups),
	}
}

// absPath makes p absolute when it can; a relative name is better than none.
func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
