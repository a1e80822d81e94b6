// Command licensegw-flexlm is the flexlm protocol plugin, started by the
// gateway; run by hand it says so and exits.
package main

import (
	"github.com/licensegw/licensegw/plugins/flexlm"
	"github.com/licensegw/licensegw/sdk"
)

func main() { sdk.Serve(flexlm.New()) }
