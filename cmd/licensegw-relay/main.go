// Command licensegw-relay is the keygen-relay node API plugin of licensegw;
// the gateway starts it (docs/relay.md).
package main

import (
	"github.com/licensegw/licensegw/plugins/relay"
	"github.com/licensegw/licensegw/sdk"
)

func main() { sdk.Serve(relay.New()) }
