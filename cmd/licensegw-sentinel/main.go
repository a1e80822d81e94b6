// Command licensegw-sentinel is the Sentinel-style protocol plugin of
// licensegw; the gateway starts it (docs/sentinel.md).
package main

import (
	"github.com/licensegw/licensegw/plugins/sentinel"
	"github.com/licensegw/licensegw/sdk"
)

func main() { sdk.Serve(sentinel.New()) }
