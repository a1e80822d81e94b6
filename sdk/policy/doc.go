// Package policy is the neutral model of licence policy: features (pools of
// seats), the subjects policies name, reservations, limits, user and host
// groups, and a Set of them.
//
// It is shared by everything that produces or consumes policy: the
// gateway's accounting engine and configuration decoder, format importers
// in plugins (FlexLM licence and options files, Sentinel reservation files,
// a vendor's own format) and the tools that print policy as configuration.
// It depends on the standard library only, so that a plugin importing it
// links none of the gateway.
//
// A Set is what an importer returns over the SDK. It crosses the plugin
// boundary as JSON (encoding/json of the types below, field names as
// declared), so renaming an exported field is a change of the plugin API.
package policy
