// Package sdk is what a vendor imports to write a licensegw protocol plugin.
//
// A plugin implements Protocol: it describes itself (Info) and serves its
// wire protocol on the sockets the gateway binds for it (Serve), asking the
// gateway's accounting for seats through the typed Seats client. sdk.Serve
// runs the plugin under hashicorp/go-plugin; gRPC and protobuf stay behind it.
//
//	func main() { sdk.Serve(myprotocol.New()) }
//
// How a plugin process lives:
//
//   - The gateway starts the binary, checks its SHA-256 when configured, and
//     completes go-plugin's handshake (Handshake: protocol version 1, cookie
//     LICENSEGW_PLUGIN) over AutoMTLS gRPC. Logs are JSON on stderr; the
//     gateway re-logs them under the plugin instance's name.
//   - The gateway asks Info, then configures the plugin once: typed config
//     values, the sockets it bound (inherited as file descriptors 3, 4, ...,
//     which arrive as Env.Listeners and Env.PacketConns), a data directory,
//     and the broker id of its Seats service. Serve then runs until the
//     gateway stops the plugin.
//   - All Seats calls travel over one long-lived gRPC stream, multiplexed by
//     request id and sent in batches, so thousands of concurrent calls cost
//     few frames.
//   - A Seats stream that ends while the gateway lives is reopened on the
//     same connection: the plugin's clients keep their connections and their
//     queue tickets; calls in flight at the break fail with ErrUnavailable.
//   - The process exits by itself when Serve returns without being stopped
//     (the gateway restarts it, and the sockets stay open meanwhile) and when
//     the gateway dies: no Seats stream can be opened for 2 seconds, or its
//     parent process changes.
//
// The sdk never imports the gateway: plugins build against this module path
// alone. sdk/sdktest provides an in-memory host for a plugin's own tests;
// sdk/proto documents the wire contract for plugins in other languages.
// PluginMap, GRPCPlugin, Remote and NewSeatsServer are the host's side of
// the same contract.
package sdk
