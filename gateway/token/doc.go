// Package token provides the admin API's bearer tokens: making them,
// parsing them, hashing them, the scopes they carry and the set of tokens a
// gateway accepts.
//
// A token is the text "lgw_" followed by 43 base64url characters (32 random
// bytes). The gateway never keeps a declared token in plain text: the
// configuration names each one by the hex SHA-256 of its text, with a name
// (the actor that events and logs record) and a scope. The one exception is
// the token the gateway makes for itself at first start, written to its
// data directory with mode 0600 so that the CLI run beside the gateway can
// read it, as an SSH host key is kept.
//
// Scopes are ordered: Write includes Read.
package token
