package cli

import (
	"os"
	"path/filepath"
)

// bundledImporters are the import formats of the plugins installed with
// licensegw, by the executable that provides each: the plugins sit beside
// the licensegw binary (make build, make install, the release layout). An
// import "<format>" { } block of a configuration with no plugin block for
// the format is run through these, and so is `licensegw import <format>`.
// The gateway core knows no plugin: this composition root does.
func bundledImporters() map[string]string {
	dir := "."
	if exe, err := os.Executable(); err == nil {
		dir = filepath.Dir(exe)
	}
	return map[string]string{
		"flexlm":                filepath.Join(dir, "licensegw-flexlm"),
		"sentinel_reservations": filepath.Join(dir, "licensegw-sentinel"),
	}
}
