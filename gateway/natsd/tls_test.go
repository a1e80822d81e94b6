package natsd_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/licensegw/licensegw/gateway/natsd"
	"github.com/licensegw/licensegw/gateway/natsd/natstest"
	"github.com/licensegw/licensegw/gateway/tlsconfig"
)

func TestTLSListener(t *testing.T) {
	files := natstest.NewTLSFiles(t)
	tests := []struct {
		name        string
		clientCerts bool
	}{
		{"server certificate", false},
		{"client certificates", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca := ""
			if tt.clientCerts {
				ca = files.CA
			}
			srvTLS, err := tlsconfig.Server(files.ServerCert, files.ServerKey, ca)
			if err != nil {
				t.Fatal(err)
			}
			s := natstest.StartWith(t, natsd.Config{TLS: srvTLS})

			// The gateway's own connection needs no TLS.
			in, err := s.Connect()
			if err != nil {
				t.Fatalf("in-process: %v", err)
			}
			in.Close()

			connect := func(caFile, cert, key string, creds bool) error {
				opts := []nats.Option{nats.Timeout(20 * time.Second)}
				if creds {
					opts = append(opts, natstest.ReadOnly())
				}
				if caFile != "" {
					c, err := tlsconfig.Client(caFile, cert, key)
					if err != nil {
						t.Fatal(err)
					}
					opts = append(opts, nats.Secure(c))
				}
				nc, err := nats.Connect(s.ClientURL(), opts...)
				if err == nil {
					nc.Close()
				}
				return err
			}
			if err := connect("", "", "", true); err == nil {
				t.Error("a client without TLS connected")
			}
			if err := connect(files.CA, files.ClientCert, files.ClientKey, false); err == nil {
				t.Error("a TLS client without credentials connected")
			}
			err = connect(files.CA, "", "", true)
			if tt.clientCerts && err == nil {
				t.Error("a client without a certificate connected")
			}
			if !tt.clientCerts && err != nil {
				t.Errorf("TLS and credentials: %v", err)
			}
			if err := connect(files.CA, files.ClientCert, files.ClientKey, true); err != nil {
				t.Errorf("TLS, client certificate and credentials: %v", err)
			}
			// New identities keep the listener's TLS.
			if err := s.SetAuth(natstest.Auth()); err != nil {
				t.Fatalf("SetAuth: %v", err)
			}
			if err := connect("", "", "", true); err == nil {
				t.Error("after SetAuth, a client without TLS connected")
			}
			if err := connect(files.CA, files.ClientCert, files.ClientKey, true); err != nil {
				t.Errorf("after SetAuth, TLS, client certificate and credentials: %v", err)
			}
		})
	}
}
