// Command licensegw-concurrentlm is the concurrent-lm (CLM/1) protocol
// plugin; the gateway starts it under hashicorp/go-plugin.
package main

import (
	"github.com/licensegw/licensegw/plugins/concurrentlm"
	"github.com/licensegw/licensegw/sdk"
)

func main() { sdk.Serve(concurrentlm.New()) }
