package cli

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/licensegw/licensegw/gateway/admin"
	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/gateway/tlsconfig"
	"github.com/licensegw/licensegw/gateway/token"
)

// adminFlags are the flags of every command that calls the admin API: where
// it is, the token, and TLS.
type adminFlags struct {
	addr, token, tokenFile, config string
	ca, cert, key                  string
}

// register adds the flags to fs, with their defaults from the environment.
func (a *adminFlags) register(e *env, fs *flag.FlagSet) {
	fs.StringVar(&a.addr, "addr", envOr(e, "LICENSEGW_ADDR", admin.DefaultAddr), "admin API `address` or URL (env LICENSEGW_ADDR)")
	fs.StringVar(&a.token, "token", e.getenv("LICENSEGW_TOKEN"), "admin API `token` (env LICENSEGW_TOKEN; default: the gateway's admin.token)")
	fs.StringVar(&a.tokenFile, "token-file", e.getenv("LICENSEGW_TOKEN_FILE"), "read the token from `file` (env LICENSEGW_TOKEN_FILE)")
	a.config = envOr(e, "LICENSEGW_CONFIG", "config.hcl")
	if fs.Lookup("config") == nil { // simulate's -config is another file
		fs.StringVar(&a.config, "config", a.config, "the gateway's configuration `file`, to find its admin.token (env LICENSEGW_CONFIG)")
	}
	fs.StringVar(&a.ca, "tls-ca", e.getenv("LICENSEGW_TLS_CA"), "trust the CA certificates in `file` for https:// (env LICENSEGW_TLS_CA)")
	fs.StringVar(&a.cert, "tls-cert", e.getenv("LICENSEGW_TLS_CERT"), "present the client certificate in `file` (env LICENSEGW_TLS_CERT)")
	fs.StringVar(&a.key, "tls-key", e.getenv("LICENSEGW_TLS_KEY"), "the client certificate's key `file` (env LICENSEGW_TLS_KEY)")
}

// client is the admin API client the flags describe.
func (a *adminFlags) client() (*admin.Client, error) {
	tok, err := a.resolveToken()
	if err != nil {
		return nil, err
	}
	var opts []admin.ClientOption
	if tok != "" {
		opts = append(opts, admin.WithToken(tok))
	}
	if a.ca != "" || a.cert != "" || a.key != "" {
		var cfg *tls.Config
		if cfg, err = tlsconfig.Client(a.ca, a.cert, a.key); err != nil {
			return nil, err
		}
		opts = append(opts, admin.WithTLS(cfg))
	}
	return admin.NewClient(a.addr, opts...), nil
}

// resolveToken finds the token: --token (LICENSEGW_TOKEN), --token-file
// (LICENSEGW_TOKEN_FILE), else the token file of the gateway whose
// configuration is --config (LICENSEGW_CONFIG, ./config.hcl), else
// ./data/admin.token. Run beside the gateway, the CLI needs no setup. No
// token at all is not an error here: the API's 401 says what to do.
func (a *adminFlags) resolveToken() (string, error) {
	if a.token != "" {
		tok, err := token.Parse(a.token)
		if err != nil {
			return "", fmt.Errorf("--token (or LICENSEGW_TOKEN): %w", err)
		}
		return tok, nil
	}
	if a.tokenFile != "" {
		return token.ReadFile(a.tokenFile)
	}
	file := filepath.Join(config.DefaultDataDir, config.DefaultTokenFile)
	if _, err := os.Stat(a.config); err == nil {
		if c, _ := config.Load(a.config); c.Admin.TokenFile != "" {
			file = c.Admin.TokenFile
		}
	}
	tok, err := token.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return "", nil
	}
	return tok, err
}
