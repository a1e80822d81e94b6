// Package pluginhost runs the gateway's protocol plugins as supervised
// child processes under hashicorp/go-plugin.
//
// The host binds every socket a plugin asks for itself and hands the sockets
// over as inherited file descriptors (exec.Cmd.ExtraFiles), so a plugin that
// crashes is restarted, with exponential backoff, while its ports stay open:
// clients that connect meanwhile wait in the listen backlog. Each plugin
// process calls back into the gateway's accounting through one Seats session
// served over the go-plugin broker. Plugin binaries are checked against a
// SHA-256 checksum when one is configured, the connection uses go-plugin's
// AutoMTLS, and a plugin never outlives the gateway: the child gets SIGTERM
// when the gateway dies (Pdeathsig) and the SDK exits on its own when its
// Seats session or its parent goes away.
//
// The package knows nothing of the gateway's configuration format: the
// caller decodes each plugin block with the schema Describe returned and
// hands Start typed values.
package pluginhost
