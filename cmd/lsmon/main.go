// Command lsmon shows the features, token counts and token holders of a
// licensegw Sentinel-style server: lsmon [-f feature] [HOST[:PORT]].
package main

import (
	"os"

	"github.com/licensegw/licensegw/plugins/sentinel/lsmon"
)

func main() { os.Exit(lsmon.Main(os.Args[1:], os.Stdout, os.Stderr)) }
