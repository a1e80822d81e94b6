package cli

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/nats-io/nats.go"

	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/gateway/natscreds"
	"github.com/licensegw/licensegw/gateway/tlsconfig"
)

// defaultNATSURL is the embedded server's default client address.
const defaultNATSURL = "nats://" + config.DefaultNATSListen

// natsFlags are the flags of every command that reads the gateway's NATS:
// where it is, the credentials, and TLS. Run beside the gateway, a command
// finds the audit credentials the gateway wrote and needs no option.
type natsFlags struct {
	url, creds, config string
	ca, cert, key      string
}

// register adds the flags to fs, with their defaults from the environment.
func (f *natsFlags) register(e *env, fs *flag.FlagSet) {
	fs.StringVar(&f.url, "nats", envOr(e, "LICENSEGW_NATS", envOr(e, "NATS_URL", defaultNATSURL)),
		"NATS `url` (env LICENSEGW_NATS, NATS_URL)")
	fs.StringVar(&f.creds, "creds", e.getenv("LICENSEGW_NATS_CREDS"),
		"NATS credentials `file`: an nkey seed or a JWT .creds file (env LICENSEGW_NATS_CREDS; default: the gateway's "+config.DefaultAuditCredentials+")")
	f.config = envOr(e, "LICENSEGW_CONFIG", "config.hcl")
	if fs.Lookup("config") == nil {
		fs.StringVar(&f.config, "config", f.config, "the gateway's configuration `file`, to find its audit credentials (env LICENSEGW_CONFIG)")
	}
	fs.StringVar(&f.ca, "nats-tls-ca", e.getenv("LICENSEGW_NATS_TLS_CA"), "trust the CA certificates in `file` for NATS TLS (env LICENSEGW_NATS_TLS_CA)")
	fs.StringVar(&f.cert, "nats-tls-cert", e.getenv("LICENSEGW_NATS_TLS_CERT"), "present the client certificate in `file` to NATS (env LICENSEGW_NATS_TLS_CERT)")
	fs.StringVar(&f.key, "nats-tls-key", e.getenv("LICENSEGW_NATS_TLS_KEY"), "the NATS client certificate's key `file` (env LICENSEGW_NATS_TLS_KEY)")
}

// connect connects as the flags say. Its errors say what to do about
// missing or refused credentials.
func (f *natsFlags) connect(name string, extra ...nats.Option) (*nats.Conn, error) {
	opts := []nats.Option{nats.Name(name)}
	file, err := f.credsFile()
	if err != nil {
		return nil, err
	}
	if file != "" {
		opt, err := natscreds.Option(file)
		if err != nil {
			return nil, err
		}
		opts = append(opts, opt)
	}
	if f.ca != "" || f.cert != "" || f.key != "" {
		c, err := tlsconfig.Client(f.ca, f.cert, f.key)
		if err != nil {
			return nil, fmt.Errorf("NATS TLS: %w", err)
		}
		opts = append(opts, nats.Secure(c))
	}
	nc, err := nats.Connect(f.url, append(opts, extra...)...)
	switch {
	case err == nil:
		return nc, nil
	case errors.Is(err, nats.ErrAuthorization) && file == "":
		return nil, fmt.Errorf("connect to NATS at %s: %w: the server wants credentials; pass --creds FILE (the gateway writes %s in its data directory)",
			f.url, err, config.DefaultAuditCredentials)
	case errors.Is(err, nats.ErrAuthorization):
		return nil, fmt.Errorf("connect to NATS at %s with %s: %w: the server does not accept these credentials (another gateway's, or rotated?)", f.url, file, err)
	}
	return nil, fmt.Errorf("connect to NATS at %s: %w", f.url, err)
}

// credsFile is --creds, else the audit credentials of the gateway whose
// configuration is --config (LICENSEGW_CONFIG, ./config.hcl), else
// ./data/nats-audit.nk when it exists and is readable; "" for none.
func (f *natsFlags) credsFile() (string, error) {
	if f.creds != "" {
		return f.creds, nil
	}
	file := filepath.Join(config.DefaultDataDir, config.DefaultAuditCredentials)
	if _, err := os.Stat(f.config); err == nil {
		if c, _ := config.Load(f.config); c.NATS.AuditCredentials != "" {
			file = c.NATS.AuditCredentials
		}
	}
	fh, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return "", nil // the server's refusal says what to do
	}
	if err != nil {
		return "", fmt.Errorf("NATS credentials: %w", err)
	}
	fh.Close()
	return file, nil
}
