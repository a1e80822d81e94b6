package e2etest

import (
	"fmt"
	"strings"
)

// CLMAddr is the address name under which ConcurrentLMPlugin listens:
// read it back with g.Addr(CLMAddr).
const CLMAddr = "clm"

// ConcurrentLMPlugin is a configuration template block that runs the
// built licensegw-concurrentlm plugin on one loopback port for both TCP and
// UDP, named CLMAddr. A non-empty config (HCL attributes) becomes the body
// of the plugin's config { } block.
func ConcurrentLMPlugin(config string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `plugin "concurrentlm" {
  path   = "{{.Bin "licensegw-concurrentlm"}}"
  listen = { tcp = "{{.TCPUDP %[1]q}}", udp = "{{.TCPUDP %[1]q}}" }
`, CLMAddr)
	if config != "" {
		fmt.Fprintf(&b, "  config {\n%s\n  }\n", config)
	}
	b.WriteString("}\n")
	return b.String()
}

// RelayAddr is the address name under which RelayPlugin listens: read it
// back with g.Addr(RelayAddr).
const RelayAddr = "relay"

// RelayPlugin is a configuration template block that runs the built
// licensegw-relay plugin (keygen-relay's node API) on a loopback HTTP port
// named RelayAddr. config (HCL attributes) is the body of its config { }
// block; it must at least set pool.
func RelayPlugin(config string) string {
	return fmt.Sprintf(`plugin "relay" {
  path   = "{{.Bin "licensegw-relay"}}"
  listen = { http = "{{.TCP %q}}" }
  config {
%s
  }
}
`, RelayAddr, config)
}
