package version

import (
	"runtime"
	"runtime/debug"
)

// Version is the product version. The Makefile stamps it (and Commit)
// with -ldflags "-X github.com/licensegw/licensegw/internal/version.Version=...";
// a plain `go build` keeps this default.
var Version = "0.1.0"

// Commit is the revision the binary was built from, stamped by the
// Makefile. When it is empty, String falls back on Go's own VCS stamp
// (present only when go build ran in a checkout with -buildvcs on).
var Commit = ""

// Product is the product name shown to clients (HELLO server=, lmstat, lsmon).
const Product = "licensegw"

// String is the one-line version the CLI prints: product, version, the
// revision when known, Go version.
func String() string {
	s := Product + " " + Version
	if c := revision(); c != "" {
		s += " (" + c + ")"
	}
	return s + " " + runtime.Version()
}

// revision is Commit, else the VCS revision Go recorded, shortened to 12
// characters, with "-dirty" when Go saw uncommitted changes.
func revision() string {
	if Commit != "" {
		return Commit
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, modified string
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.modified":
			modified = kv.Value
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" && modified == "true" {
		rev += "-dirty"
	}
	return rev
}
