package config

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/nats-io/nkeys"
)

// DefaultAuditCredentials is the seed file of the read-only audit identity
// the gateway makes at first start, in the data directory.
const DefaultAuditCredentials = "nats-audit.nk"

// AuditIdentityName is the name of the identity the gateway makes for
// itself (reserved: no identity block may take it).
const AuditIdentityName = "audit"

// NATSIdentity is one identity "<name>" { } block of the nats block: a
// client the embedded server's listener accepts, known by its public nkey
// only.
type NATSIdentity struct {
	Name string
	NKey string // public user key, "U..."
	// Write is access = "write": everything the gateway may do, writing
	// into the journal included. Otherwise the identity reads only.
	Write     bool
	DeclRange hcl.Range
}

// NATSAccess are the accepted values of an identity's access.
func NATSAccess() []string { return []string{"read", "write"} }

var identitySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "nkey", Required: true}, {Name: "access", Required: true}},
}

// natsAuth decodes what the nats block says about who may connect: the
// audit credentials file, identity blocks and tls.
func (d *decoder) natsAuth(content *hcl.BodyContent, n *NATS, dataDir string) {
	n.AuditCredentials = defaultIn("", dataDir, DefaultAuditCredentials)
	if d.str(content.Attributes, "audit_credentials", &n.AuditCredentials) && n.AuditCredentials != "" {
		n.AuditCredentials = d.path(n.AuditCredentials)
	}
	n.Identities = d.natsIdentities(content.Blocks)
	n.TLS = d.tls(d.single(content.Blocks, "tls"))
	if n.Embedded {
		return
	}
	for _, id := range n.Identities {
		d.errorf(id.DeclRange, "Identity without the embedded server",
			"Identities are for the embedded NATS server; with url, declare them in that server's configuration (docs/security.md lists the permissions).")
	}
	if n.TLS.Enabled() {
		d.errorf(d.single(content.Blocks, "tls").DefRange, "TLS without the embedded server",
			"The nats tls block is the embedded server's listener; with url, use a tls:// URL.")
	}
	n.Identities, n.TLS, n.AuditCredentials = nil, TLS{}, ""
}

// natsIdentities decodes the identity "<name>" blocks.
func (d *decoder) natsIdentities(blocks hcl.Blocks) []NATSIdentity {
	var out []NATSIdentity
	names := map[string]hcl.Range{AuditIdentityName: {}}
	keys := map[string]string{}
	for _, b := range blocks {
		if b.Type != "identity" {
			continue
		}
		id := NATSIdentity{Name: b.Labels[0], DeclRange: b.DefRange}
		ok := true
		if err := checkName(id.Name); err != nil {
			d.errorf(b.LabelRanges[0], "Invalid identity name", "The identity name %s.", err)
			ok = false
		} else if first, dup := names[id.Name]; dup {
			if id.Name == AuditIdentityName {
				d.errorf(b.LabelRanges[0], "Reserved identity name",
					"The name %q belongs to the identity the gateway makes in its data directory; choose another.", id.Name)
			} else {
				d.errorf(b.LabelRanges[0], "Duplicate identity", "An identity named %q is already defined at %s.", id.Name, first)
			}
			ok = false
		}
		a := d.content(b.Body, identitySchema).Attributes
		if d.str(a, "nkey", &id.NKey) {
			switch {
			case !nkeys.IsValidPublicUserKey(id.NKey):
				d.errorf(a["nkey"].Expr.Range(), "Invalid nkey",
					"The nkey is a public user key: 56 characters starting with \"U\" (licensegw nats identity prints one). Never put the seed (\"SU...\") here.")
				ok = false
			case keys[id.NKey] != "":
				d.errorf(a["nkey"].Expr.Range(), "Duplicate nkey", "Identity %q has the same nkey; each identity needs its own.", keys[id.NKey])
				ok = false
			}
		} else {
			ok = false
		}
		var access string
		if d.str(a, "access", &access) {
			switch access {
			case "read":
			case "write":
				id.Write = true
			default:
				d.errorf(a["access"].Expr.Range(), "Invalid access",
					"An identity's access is \"read\" (events and consumers, no writing) or \"write\" (everything, as the gateway), not %q.", access)
				ok = false
			}
		} else {
			ok = false
		}
		if ok {
			names[id.Name] = b.DefRange
			keys[id.NKey] = id.Name
			out = append(out, id)
		}
	}
	return out
}
