package audit

import (
	"bytes"
	"fmt"
	"os"

	"github.com/nats-io/nats.go"
)

// natsOptions are the connection's options: reconnect for ever,
// authenticate with the credentials file, speak TLS when configured.
//
// The gateway's embedded server takes nkey seed files (its audit identity
// is one, data/nats-audit.nk); a NATS deployment run in operator mode hands
// out JWT .creds files. nats.go reads both; which one is told by the JWT
// block a .creds file starts with.
func (c *Config) natsOptions() ([]nats.Option, error) {
	opts := []nats.Option{nats.Name("licensegw-audit"), nats.MaxReconnects(-1)}
	if c.Creds != "" {
		b, err := os.ReadFile(c.Creds)
		if err != nil {
			return nil, fmt.Errorf("audit: credentials: %w", err)
		}
		if bytes.Contains(b, []byte("-----BEGIN NATS USER JWT-----")) {
			opts = append(opts, nats.UserCredentials(c.Creds))
		} else {
			opt, err := nats.NkeyOptionFromSeed(c.Creds)
			if err != nil {
				return nil, fmt.Errorf("audit: credentials %s: %w", c.Creds, err)
			}
			opts = append(opts, opt)
		}
	}
	if c.TLS != nil {
		opts = append(opts, nats.Secure(c.TLS))
	}
	return opts, nil
}
