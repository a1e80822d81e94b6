// Package sdk is what a vendor imports to write a licensegw protocol plugin.
//
// A plugin implements Protocol: it describes itself (Info) and serves its
// wire protocol on the sockets the gateway binds for it (Serve), asking the
// gateway's accounting for seats through the typed Seats client. sdk.Serve
// runs the plugin under hashicorp/go-plugin; gRPC and protobuf stay behind it.
//
// The sdk never imports the gateway: plugins build against this module path
// alone. sdk/sdktest provides an in-memory host for a plugin's own tests.
package sdk
