// Package eventbound holds fuzz targets that carry hostile wire input
// across the whole edge: each protocol plugin's decoder, the request the
// plugin builds from it, the SDK's identifier rules (sdk.CheckoutRequest
// Validate, which the plugin side and the gateway side of the Seats channel
// both apply), the accounting engine, and the journal's JSON encoding of
// the events it decides. Whatever the bytes, no event may exceed
// sdk.MaxEventBytes and no subject token may be other than one plain token.
//
// It sits in internal/ because it needs both plugins and the gateway, which
// never import each other. It has no code of its own beyond this file.
package eventbound
