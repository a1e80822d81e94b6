// Package lmutil is the command-line side of the flexlm plugin: lmstat,
// lmremove, lmreread, lmdown, lmhostid and lmver, with FlexLM's flags and
// output layout, so monitoring scripts written for `lmutil` keep working.
//
// Main is the whole program; cmd/lmutil calls it, and the gateway's CLI can
// expose it as `licensegw lmutil ...`.
package lmutil
