// Command lmutil is the FlexLM-compatible licence tool of licensegw:
// lmstat, lmremove, lmreread, lmdown, lmhostid and lmver. Installed (or
// linked) under a verb's name, such as lmstat, it runs that verb.
package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/licensegw/licensegw/plugins/flexlm/lmutil"
)

func main() {
	args := os.Args[1:]
	if name := strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe"); lmutil.IsVerb(name) {
		args = append([]string{name}, args...)
	}
	os.Exit(lmutil.Main(args, os.Stdout, os.Stderr))
}
