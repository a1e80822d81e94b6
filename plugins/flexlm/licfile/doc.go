// Package licfile parses FlexLM-style licence files: SERVER, VENDOR,
// USE_SERVER, FEATURE and INCREMENT lines with their attributes.
//
// The parser keeps everything it reads, including attributes it does not
// know, so an importer can report what it cannot honour instead of dropping
// it. It applies FlexLM's combination rules: within a vendor, FEATURE and
// INCREMENT lines of the same name and version add their counts to one
// pool, and a later FEATURE line of a name already seen is ignored with a
// warning.
//
// Signatures (SIGN=, or the old positional key) are kept but never
// verified: that needs the vendor's keys. Nothing here claims otherwise.
package licfile
