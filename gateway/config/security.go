package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/licensegw/licensegw/gateway/token"
)

// DefaultTokenFile is the admin token the gateway makes at first start, in
// the data directory.
const DefaultTokenFile = "admin.token"

// AdminTokenName is the name (the actor in events and logs) of the token the
// gateway makes for itself.
const AdminTokenName = "admin"

// Token is one token "<name>" { } block of the admin block: a token the
// admin API accepts, known by its SHA-256 only.
type Token struct {
	Name      string
	Scope     token.Scope
	Digest    token.Digest
	Expires   time.Time // zero: never
	DeclRange hcl.Range
}

// TLS is a tls { } block: a certificate and key to serve with, and
// optionally the CA that client certificates must chain to.
type TLS struct {
	CertFile     string // absolute
	KeyFile      string // absolute
	ClientCAFile string // absolute; "" when clients need no certificate
}

// Enabled reports whether the block was given.
func (t TLS) Enabled() bool { return t.CertFile != "" }

var tokenSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "sha256", Required: true}, {Name: "scope", Required: true}, {Name: "expires"}},
}

// tokens decodes the token "<name>" blocks of the admin block.
func (d *decoder) tokens(blocks hcl.Blocks) []Token {
	var out []Token
	names := map[string]hcl.Range{AdminTokenName: {}}
	digests := map[token.Digest]string{}
	for _, b := range blocks {
		if b.Type != "token" {
			continue
		}
		t := Token{Name: b.Labels[0], DeclRange: b.DefRange}
		ok := true
		if err := checkName(t.Name); err != nil {
			d.errorf(b.LabelRanges[0], "Invalid token name", "The token name %s.", err)
			ok = false
		} else if first, dup := names[t.Name]; dup {
			if t.Name == AdminTokenName {
				d.errorf(b.LabelRanges[0], "Reserved token name",
					"The name %q belongs to the token the gateway makes in its data directory; choose another.", t.Name)
			} else {
				d.errorf(b.LabelRanges[0], "Duplicate token", "A token named %q is already defined at %s.", t.Name, first)
			}
			ok = false
		}
		a := d.content(b.Body, tokenSchema).Attributes
		var s string
		if d.str(a, "sha256", &s) {
			var err error
			if t.Digest, err = token.ParseDigest(s); err != nil {
				d.errorf(a["sha256"].Expr.Range(), "Invalid token hash", "The token's sha256 %s.", err)
				ok = false
			} else if other, dup := digests[t.Digest]; dup {
				d.errorf(a["sha256"].Expr.Range(), "Duplicate token hash", "Token %q has the same sha256; each token needs its own.", other)
				ok = false
			}
		} else {
			ok = false
		}
		if d.str(a, "scope", &s) {
			var err error
			if t.Scope, err = token.ParseScope(s); err != nil {
				d.errorf(a["scope"].Expr.Range(), "Invalid token scope", "The token's scope %s.", err)
				ok = false
			}
		} else {
			ok = false
		}
		if attr, set := a["expires"]; set {
			if t.Expires, set = d.time(attr, true); !set {
				ok = false
			}
		}
		if ok {
			names[t.Name] = b.DefRange
			digests[t.Digest] = t.Name
			out = append(out, t)
		}
	}
	return out
}

var tlsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "cert_file", Required: true}, {Name: "key_file", Required: true}, {Name: "client_ca_file"},
	},
}

// tls decodes a tls { } block; the files must exist (they are read at
// start, and a typo is better reported here with its position).
func (d *decoder) tls(b *hcl.Block) TLS {
	var t TLS
	if b == nil {
		return t
	}
	a := d.content(b.Body, tlsSchema).Attributes
	for _, f := range []struct {
		name string
		dst  *string
	}{{"cert_file", &t.CertFile}, {"key_file", &t.KeyFile}, {"client_ca_file", &t.ClientCAFile}} {
		if !d.str(a, f.name, f.dst) {
			continue
		}
		*f.dst = d.path(*f.dst)
		d.checkReadable(*f.dst, a[f.name].Expr.Range())
	}
	if t.CertFile == "" || t.KeyFile == "" {
		return TLS{}
	}
	return t
}

// checkReadable reports at rng when path is not a readable file.
func (d *decoder) checkReadable(path string, rng hcl.Range) {
	if path == "" {
		d.errorf(rng, "Invalid file", "The file name must not be empty.")
		return
	}
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d.errorf(rng, "File not found", "There is no file at %s.", path)
		return
	case err != nil:
		d.errorf(rng, "File not readable", "%v.", err)
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		d.errorf(rng, "Invalid file", "%s is a directory.", path)
	}
}

// defaultIn is name in dir unless p (already resolved) is set.
func defaultIn(p, dir, name string) string {
	if p != "" {
		return p
	}
	return filepath.Join(dir, name)
}
