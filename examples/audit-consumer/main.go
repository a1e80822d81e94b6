// Command audit-consumer appends licensegw's events to a file, one JSON line
// per event, exactly once across restarts. See README.md.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/licensegw/licensegw/examples/audit-consumer/audit"
	"github.com/licensegw/licensegw/gateway/journal"
)

func main() {
	var cfg audit.Config
	var caFile, certFile, keyFile string
	flag.StringVar(&cfg.URL, "url", envOr("NATS_URL", audit.DefaultURL), "NATS server URL (env NATS_URL)")
	flag.StringVar(&cfg.Creds, "creds", envOr("LICENSEGW_NATS_CREDS", defaultCreds()), "credentials file: nkey seed or JWT .creds (env LICENSEGW_NATS_CREDS)")
	flag.StringVar(&caFile, "tls-ca", "", "trust the CA certificates in this PEM file (TLS)")
	flag.StringVar(&certFile, "tls-cert", "", "client certificate PEM file (TLS)")
	flag.StringVar(&keyFile, "tls-key", "", "client certificate key PEM file (TLS)")
	flag.StringVar(&cfg.Stream, "stream", audit.DefaultStream, "JetStream stream of the events")
	flag.StringVar(&cfg.Durable, "durable", audit.DefaultDurable, "durable consumer name")
	flag.StringVar(&cfg.Subject, "subject", audit.DefaultSubject, "subjects to copy")
	flag.StringVar(&cfg.Out, "out", "audit.jsonl", "file the events are appended to")
	flag.IntVar(&cfg.Batch, "batch", audit.DefaultBatch, "events per write+fsync+ack round")
	flag.DurationVar(&cfg.AckWait, "ack-wait", audit.DefaultAckWait, "redelivery delay after a crash")
	key := flag.String("seal-key", "", "the gateway's public key (base64url, as HELLO's key= shows it): check seals' signatures")
	flag.Parse()
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	var err error
	if cfg.TLS, err = clientTLS(caFile, certFile, keyFile); err != nil {
		fmt.Fprintln(os.Stderr, "audit-consumer:", err)
		os.Exit(2)
	}
	if *key != "" {
		k, err := journal.ParsePublicKey(*key)
		if err != nil {
			fmt.Fprintln(os.Stderr, "audit-consumer:", err)
			os.Exit(2)
		}
		cfg.Key = k
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := audit.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "audit-consumer:", err)
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// defaultCreds is the gateway's audit credentials when run from the
// directory `make run` serves from, else none.
func defaultCreds() string {
	if _, err := os.Stat(audit.DefaultCreds); err == nil {
		return audit.DefaultCreds
	}
	return ""
}

// clientTLS is the TLS configuration the flags describe, nil for none.
func clientTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	if caFile == "" && certFile == "" && keyFile == "" {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate", caFile)
		}
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("-tls-cert and -tls-key go together")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}
