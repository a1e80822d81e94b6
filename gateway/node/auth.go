package node

import (
	"fmt"

	"github.com/licensegw/licensegw/gateway/admin"
	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/gateway/tlsconfig"
	"github.com/licensegw/licensegw/gateway/token"
)

// adminTokens is the token set of an admin block: the token in its token
// file (made at first start), named config.AdminTokenName with scope write,
// and every token block.
func adminTokens(a config.Admin) (*token.Set, bool, error) {
	tok, created, err := token.LoadOrCreate(a.TokenFile)
	if err != nil {
		return nil, false, fmt.Errorf("admin token: %w", err)
	}
	entries := []token.Entry{{Name: config.AdminTokenName, Scope: token.Write, Digest: token.Hash(tok)}}
	for _, t := range a.Tokens {
		entries = append(entries, token.Entry{Name: t.Name, Scope: t.Scope, Digest: t.Digest, Expires: t.Expires})
	}
	set, err := token.NewSet(entries...)
	if err != nil {
		return nil, false, fmt.Errorf("admin tokens: %w", err)
	}
	return set, created, nil
}

// startAdmin starts the admin API of the configuration.
func (n *Node) startAdmin() error {
	var err error
	n.admin, err = n.listenAdmin(n)
	return err
}

// listenAdmin serves the admin API on its configured address with backend
// b: the node itself, or a standby's (standby.go).
func (n *Node) listenAdmin(b admin.Backend) (*admin.Server, error) {
	a := n.cfg.Admin
	set, created, err := adminTokens(a)
	if err != nil {
		return nil, err
	}
	if created {
		n.log.Info("admin token created", "file", a.TokenFile)
	}
	n.auth = admin.NewAuth(set, n.log.Named("admin"))
	o := admin.Options{Addr: a.Listen, Auth: n.auth}
	if a.TLS.Enabled() {
		if o.TLS, err = tlsconfig.Server(a.TLS.CertFile, a.TLS.KeyFile, a.TLS.ClientCAFile); err != nil {
			return nil, fmt.Errorf("admin API: %w", err)
		}
	}
	srv, err := admin.Listen(o, b, n.log.Named("admin"))
	if err != nil {
		return nil, fmt.Errorf("admin API: %w", err)
	}
	n.log.Info("admin API listening", "url", srv.URL(), "tokens", set.Len(), "client_certificates", a.TLS.ClientCAFile != "")
	return srv, nil
}
