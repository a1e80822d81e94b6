package sdk

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"

	"github.com/hashicorp/go-hclog"
)

// APIVersion is the newest version of the plugin API this SDK speaks. A
// plugin reports it in its Info. (go-plugin's own protocol version covers
// the transport.)
//
// Version 2 added the optional Import and ValidateConfig calls (Importer,
// ConfigValidator) and the list of versions a plugin speaks.
const APIVersion = 2

// APIVersions are the plugin API versions this SDK speaks, oldest first. A
// plugin built with it reports them all; the gateway uses the highest
// version both sides speak (NegotiateAPIVersion), as Nomad's plugin loader
// does, instead of requiring equal versions.
func APIVersions() []int { return []int{1, 2} }

// Protocol is what a protocol plugin implements. A plugin's main is
//
//	func main() { sdk.Serve(myprotocol.New()) }
type Protocol interface {
	// Info describes the plugin: it is asked before the plugin is
	// configured, so it must not depend on configuration.
	Info() Info

	// Serve speaks the protocol on env's listeners until ctx is done, then
	// closes what it opened and returns. A returned error other than
	// ctx.Err() is logged by the gateway and the plugin is restarted.
	Serve(ctx context.Context, env *Env) error
}

// Info is a plugin's self-description.
type Info struct {
	Name        string // protocol name, e.g. "concurrent-lm"; appears in events
	Version     string // the plugin's own version
	APIVersion  int    // APIVersion of the SDK it was built with
	Description string
	Listeners   []ListenerSpec // the sockets the gateway binds for it
	Config      Schema         // the schema of the plugin's config { } block
	// APIVersions are the API versions the plugin speaks; empty means
	// those of the SDK it was built with (APIVersions).
	APIVersions []int
	// Imports are the vendor file formats the plugin imports (Importer),
	// for import "<format>" { } blocks and `licensegw import <format>`.
	Imports []ImportFormat

	// Capabilities are the optional calls the plugin implements
	// (CapImport, CapValidateConfig). The SDK fills them in from the
	// interfaces the Protocol implements; a plugin leaves them empty.
	Capabilities []string
}

// The optional calls a plugin may implement (Info.Capabilities).
const (
	CapImport         = "import"          // Importer
	CapValidateConfig = "validate_config" // ConfigValidator
)

// Can reports whether the plugin implements an optional call.
func (i Info) Can(capability string) bool { return slices.Contains(i.Capabilities, capability) }

// ErrAPIVersion is returned by NegotiateAPIVersion when the plugin and the
// host share no API version.
var ErrAPIVersion = errors.New("no plugin API version in common")

// NegotiateAPIVersion returns the highest API version both the plugin
// (info) and the host (host, e.g. APIVersions()) speak.
func NegotiateAPIVersion(info Info, host []int) (int, error) {
	theirs := info.APIVersions
	if len(theirs) == 0 {
		theirs = []int{info.APIVersion}
	}
	best := 0
	for _, v := range theirs {
		if v > best && slices.Contains(host, v) {
			best = v
		}
	}
	if best == 0 {
		return 0, fmt.Errorf("%w: plugin %s speaks %v, the gateway %v", ErrAPIVersion, info.Name, theirs, host)
	}
	return best, nil
}

// ListenerSpec asks the gateway to bind a socket for the plugin. The
// gateway binds it (so the port survives plugin restarts) and hands it over
// as an inherited file descriptor.
type ListenerSpec struct {
	Name    string // key in Env.Listeners / Env.PacketConns, e.g. "tcp"
	Network string // "tcp" or "udp"
	Address string // default address, e.g. ":1648"; the plugin block's listen = [...] overrides
}

// Env is what a configured plugin is given.
type Env struct {
	Name        string                    // the plugin instance's name (the plugin block's label)
	Config      Config                    // the decoded config { } block
	Listeners   map[string]net.Listener   // TCP sockets by ListenerSpec.Name
	PacketConns map[string]net.PacketConn // UDP sockets by ListenerSpec.Name
	Seats       Seats                     // the gateway's accounting
	Logger      hclog.Logger              // logs go to the gateway under the plugin's name
	DataDir     string                    // a directory of the plugin's own, kept across restarts
	Metrics     *Metrics                  // the plugin's own metrics, reported on the gateway's /metrics

	// Access is the plugin block's allow and status_allow. The SDK has
	// already applied allow to Listeners and PacketConns; a plugin asks
	// Access.CheckStatus before answering a status query. Nil (an Env
	// built by hand) allows everything.
	Access *Access
}
