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
