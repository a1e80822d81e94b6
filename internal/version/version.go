package version

import (
	"runtime"
	"runtime/debug"
)

// Version is the product version.
const Version = "0.1.0"

// Product is the product name shown to clients (HELLO server=, lmstat, lsmon).
const Product = "licensegw"

// String is the one-line version the CLI prints: product, version, VCS
// revision when the binary was built from a checkout, Go version.
func String() string {
	s := Product + " " + Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, kv := range bi.Settings {
			if kv.Key == "vcs.revision" && len(kv.Value) >= 12 {
				s += " (" + kv.Value[:12] + ")"
			}
		}
	}
	return s + " " + runtime.Version()
}
