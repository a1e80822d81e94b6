package natsd

import (
	"crypto/tls"
	"errors"

	"github.com/nats-io/nats-server/v2/server"
)

// tlsTimeout is how long a client has to finish its TLS handshake, in
// seconds (nats-server's default is two seconds, tight on a loaded host).
const tlsTimeout = 5

// applyTLS requires TLS of network clients, and client certificates when
// c asks for them.
func applyTLS(opts *server.Options, c *tls.Config) error {
	if c == nil {
		return nil
	}
	if len(c.Certificates) == 0 && c.GetCertificate == nil {
		return errors.New("natsd: TLS needs a certificate")
	}
	opts.TLS = true
	opts.TLSConfig = c
	opts.TLSVerify = c.ClientAuth == tls.RequireAndVerifyClientCert
	opts.TLSTimeout = tlsTimeout
	return nil
}
