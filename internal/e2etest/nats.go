package e2etest

import (
	"fmt"
	"path/filepath"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/licensegw/licensegw/gateway/config"
)

// PrivilegedIdentity is the name of the identity with access = "write" the
// harness declares in every embedded server it configures.
const PrivilegedIdentity = "e2etest"

// AuditCreds is the read-only audit identity's seed file, which the gateway
// writes at its first start.
func (g *Gateway) AuditCreds() string {
	return filepath.Join(g.Dir, "data", config.DefaultAuditCredentials)
}

// AuditNATS is the nats.go option that authenticates as the gateway's
// audit identity (read-only), as an audit consumer does.
func (g *Gateway) AuditNATS() nats.Option {
	g.t.Helper()
	opt, err := nats.NkeyOptionFromSeed(g.AuditCreds())
	if err != nil {
		g.t.Fatalf("audit credentials: %v", err)
	}
	return opt
}

// PrivilegedNATS connects to the gateway's embedded server over its network
// port with every permission (the harness's identity with access =
// "write"): what a stolen write credential or a compromised broker gives,
// for tests that tamper with the streams. It is closed when the test ends.
func (g *Gateway) PrivilegedNATS() *nats.Conn {
	g.t.Helper()
	nc, err := nats.Connect(g.NATSURL(), g.privilegedOption(), nats.Name("licensegw e2etest privileged"))
	if err != nil {
		g.t.Fatalf("privileged NATS connection: %v", err)
	}
	g.t.Cleanup(nc.Close)
	return nc
}

func (g *Gateway) privilegedOption() nats.Option {
	kp := g.key()
	pub, _ := kp.PublicKey()
	return nats.Nkey(pub, kp.Sign)
}

// key is the harness identity's key, made on first use.
func (g *Gateway) key() nkeys.KeyPair {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.nkey == nil {
		kp, err := newHarnessKey()
		if err != nil {
			g.t.Fatal(err)
		}
		g.nkey = kp
	}
	return g.nkey
}

// newHarnessKey makes the harness identity's key, in memory only.
func newHarnessKey() (nkeys.KeyPair, error) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return nil, fmt.Errorf("harness nkey: %w", err)
	}
	return kp, nil
}

// identityBlock declares the harness's identity.
func (g *Gateway) identityBlock() string {
	pub, _ := g.key().PublicKey()
	return fmt.Sprintf("  identity %q {\n    nkey   = %q\n    access = \"write\"\n  }\n", PrivilegedIdentity, pub)
}
