package sdk

import (
	"context"
	"fmt"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	pb "github.com/licensegw/licensegw/sdk/proto"
	"google.golang.org/grpc"
)

// The go-plugin handshake. The protocol version covers the transport (the
// gRPC services in sdk/proto); Info.APIVersion covers the plugin API.
const (
	HandshakeVersion = 1
	MagicCookieKey   = "LICENSEGW_PLUGIN"
	MagicCookieValue = "acf48faca906203115b597a5f7caf53323a2e37638bf06d97809368481ad31ec"
)

// PluginName is the name under which a plugin process serves its Protocol
// in the go-plugin plugin set.
const PluginName = "protocol"

// firstInheritedFD is the descriptor of the first inherited socket: 0-2 are
// stdin, stdout and stderr (exec.Cmd.ExtraFiles starts at 3).
const firstInheritedFD = 3

// Handshake returns the go-plugin handshake every licensegw plugin and
// host use.
func Handshake() plugin.HandshakeConfig {
	return plugin.HandshakeConfig{
		ProtocolVersion:  HandshakeVersion,
		MagicCookieKey:   MagicCookieKey,
		MagicCookieValue: MagicCookieValue,
	}
}

// PluginMap returns the plugin set a host passes to go-plugin's
// ClientConfig.Plugins; dispensing PluginName yields a *Remote.
func PluginMap() plugin.PluginSet {
	return plugin.PluginSet{PluginName: &GRPCPlugin{}}
}

// GRPCPlugin is the go-plugin glue of a protocol plugin. In the plugin
// process (sdk.Serve) it serves Impl; in the host it dispenses a *Remote.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin

	// Impl is the protocol, in the plugin process only.
	Impl Protocol
	// Logger is the plugin's logger, in the plugin process only.
	Logger hclog.Logger

	// exit ends the plugin process; see Serve.
	exit func(code int, why string)
	// openFile returns the inherited socket of a listener; tests replace it.
	openFile func(index uint32, name string) (*os.File, error)
}

var _ plugin.GRPCPlugin = (*GRPCPlugin)(nil)

// GRPCServer registers the Plugin service (plugin side).
func (p *GRPCPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return fmt.Errorf("sdk: GRPCPlugin has no Protocol to serve")
	}
	log := p.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	exit := p.exit
	if exit == nil {
		exit = func(int, string) {}
	}
	open := p.openFile
	if open == nil {
		open = inheritedFile
	}
	pb.RegisterPluginServer(s, &pluginServer{impl: p.Impl, broker: broker, log: log, exit: exit, openFile: open, metrics: NewMetrics()})
	return nil
}

// GRPCClient returns the host's handle on a plugin process (host side).
func (p *GRPCPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &Remote{client: pb.NewPluginClient(c), broker: broker}, nil
}

// inheritedFile is the socket the host passed at exec.Cmd.ExtraFiles[index].
func inheritedFile(index uint32, name string) (*os.File, error) {
	fd := uintptr(firstInheritedFD + index)
	f := os.NewFile(fd, name)
	if f == nil {
		return nil, fmt.Errorf("listener %q: no inherited file descriptor %d", name, fd)
	}
	return f, nil
}
