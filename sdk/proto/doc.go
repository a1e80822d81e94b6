// Package proto holds the gRPC services between the gateway and a protocol
// plugin (plugin.proto: the Plugin service the plugin serves; seats.proto:
// the Seats service the gateway serves over the go-plugin broker) and their
// generated Go code. Regenerate with gen.sh after editing a .proto file; the
// generated files are committed so that building needs no protoc.
//
// Plugins written in Go never use this package directly: sdk.Serve and the
// sdk.Seats client hide it. It is documented for plugins written in other
// languages.
package proto
