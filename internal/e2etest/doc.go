// Package e2etest is a harness for end-to-end tests of licensegw: it builds
// the real binaries, starts the gateway daemon as a subprocess from a
// configuration template on free loopback ports, waits until it and every
// plugin it names serve, and gives tests what they need to drive and
// observe it: the admin API client, the JetStream event stream read the way
// an audit consumer reads it, the built command-line tools, and a lossy UDP
// relay for protocols that must survive loss, duplication and reordering.
//
// A test package builds once in TestMain:
//
//	var bins e2etest.Binaries
//
//	func TestMain(m *testing.M) {
//		os.Exit(e2etest.Main(m, &bins, "./cmd/..."))
//	}
//
// and each test starts its own gateway:
//
//	g := e2etest.Start(t, e2etest.Options{Bins: bins, Config: `
//	feature "cad" { seats = 2 }
//	plugin "concurrentlm" {
//	  path   = "{{.Bin "licensegw-concurrentlm"}}"
//	  listen = { tcp = "{{.TCPUDP "clm"}}", udp = "{{.TCPUDP "clm"}}" }
//	}`})
//	addr := g.Addr("clm")
//
// ConcurrentLMPlugin(body) is that plugin block, for tests that need no
// other listener; RelayPlugin(body) is the keygen-relay plugin's, on the
// HTTP address named RelayAddr.
//
// The harness writes the gateway, admin and nats blocks itself (so that it
// knows where to reach the admin API and NATS); the template gives the rest.
// Every port it picks stays bound by the harness until the daemon starts,
// so that no other socket (a proxy of the same test, another test run) is
// given it meanwhile; a first start that finds a port taken all the same
// starts again on new ports (a cluster: every node), so addresses are read
// once Start returns. A restart waits until the processes of the previous
// run (plugins included) are gone, since they hold the sockets it binds.
// Every process it starts is killed when the test ends, and the daemon's
// output is shown when the test failed.
package e2etest
