package node

import (
	"crypto/tls"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/natscreds"
	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/tlsconfig"
)

// auditHeader is written above the seed in the audit credentials file.
var auditHeader = []string{
	"licensegw: the read-only \"audit\" identity of the embedded NATS server.",
	"It reads events and lifecycle messages and keeps consumers; it cannot write.",
	"Use: nats --server nats://127.0.0.1:4222 --nkey THIS_FILE sub 'licensegw.events.>'",
	"Keep it secret (mode 0600). Delete it and restart the gateway to rotate it.",
}

// natsAuth is who may use the embedded server's listener: the audit
// identity (made at first start) and the identity blocks. A damaged audit
// credentials file is logged and leaves that identity out: the gateway
// serves, the file is kept for the operator to look at.
func (n *Node) natsAuth(c config.NATS) natsd.Auth {
	a := natsd.Auth{
		ReadSubjects:   append(events.StreamSubjects(c.Prefix), events.LifecycleSubjects(c.Prefix)...),
		ReadStreams:    []string{c.Stream, events.LifecycleStream(c.Stream)},
		ConsumeStreams: []string{c.Stream},
	}
	if c.AuditCredentials != "" {
		pub, created, err := natscreds.LoadOrCreate(c.AuditCredentials, auditHeader)
		switch {
		case err != nil:
			n.log.Error("NATS audit identity off: its credentials file does not load; fix it, or remove it and restart for a new one",
				"file", c.AuditCredentials, "error", err)
		default:
			if created {
				n.log.Info("NATS audit credentials created", "file", c.AuditCredentials)
			}
			a.Identities = append(a.Identities, natsd.Identity{Name: config.AuditIdentityName, NKey: pub, Access: natsd.ReadOnly})
		}
	}
	for _, id := range c.Identities {
		access := natsd.ReadOnly
		if id.Write {
			access = natsd.Full
		}
		a.Identities = append(a.Identities, natsd.Identity{Name: id.Name, NKey: id.NKey, Access: access})
	}
	return a
}

// natsTLS is the embedded server's listener TLS, nil without a tls block.
func natsTLS(c config.NATS) (*tls.Config, error) {
	if !c.TLS.Enabled() {
		return nil, nil
	}
	t, err := tlsconfig.Server(c.TLS.CertFile, c.TLS.KeyFile, c.TLS.ClientCAFile)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	return t, nil
}

// natsCredentials is the option that authenticates the gateway with an
// existing NATS server: an nkey seed or a JWT .creds file.
func natsCredentials(file string) ([]nats.Option, error) {
	if file == "" {
		return nil, nil
	}
	opt, err := natscreds.Option(file)
	if err != nil {
		return nil, err
	}
	return []nats.Option{opt}, nil
}

// reloadNATSAuth gives the embedded server the identities of a reloaded
// configuration (and the audit identity's file again: one deleted is made
// anew, so rotation needs no restart). The listener, its TLS, the prefix
// and the stream are read at start.
func (n *Node) reloadNATSAuth(c config.NATS) error {
	if n.ns == nil || !c.Embedded {
		return nil
	}
	running := n.cfg.NATS
	running.Identities, running.AuditCredentials = c.Identities, c.AuditCredentials
	if err := n.ns.SetAuth(n.natsAuth(running)); err != nil {
		return fmt.Errorf("NATS identities: %w", err)
	}
	n.log.Info("NATS identities reloaded", "identities", len(c.Identities))
	return nil
}
