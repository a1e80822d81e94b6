// Package layering holds the test that keeps the import arrows pointing
// one way: cmd → internal → plugins → sdk, and gateway → sdk. The gateway
// core never imports a plugin, a plugin (and its binary) never links the
// core, and the SDK imports neither.
package layering
