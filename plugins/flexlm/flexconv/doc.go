// Package flexconv turns a FlexLM licence file and options file into the
// gateway's feature and policy model (gateway/seats), and prints the
// equivalent licensegw HCL configuration.
//
// Everything the gateway cannot honour (LINGER, BORROW_LOWWATER, NOLOG,
// TS_OK, DUP_GROUP, node-locked features, unverifiable signatures, ...) is
// reported as a Diagnostic with its file:line and the reason; nothing is
// dropped silently. WriteHCL prints those diagnostics as comments.
package flexconv
