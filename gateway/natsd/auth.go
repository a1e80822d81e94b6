package natsd

import (
	"errors"
	"fmt"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Access is what an identity may do on the server.
type Access int

const (
	// ReadOnly may subscribe to Auth.ReadSubjects, read the streams in
	// Auth.ReadStreams and manage consumers on Auth.ConsumeStreams. It
	// cannot publish into any stream, nor create, edit, purge or delete
	// one.
	ReadOnly Access = iota + 1
	// Full may do everything the gateway itself may, including writing
	// into the journal: for tools as trusted as the gateway.
	Full
)

func (a Access) String() string {
	switch a {
	case ReadOnly:
		return "read"
	case Full:
		return "write"
	}
	return fmt.Sprintf("Access(%d)", int(a))
}

// Identity is one client identity the network listener accepts: a user
// nkey, known by its public key only.
type Identity struct {
	Name   string // for logs and errors
	NKey   string // the public user key, "U..."
	Access Access
}

// Auth says who may connect to the server over the network and what
// read-only identities may read. The gateway's own in-process connections
// need none of it: the server trusts them through a key made in memory at
// each start (Server.Connect).
type Auth struct {
	Identities []Identity
	// ReadSubjects are the subjects read-only identities may subscribe
	// to (the events and lifecycle subjects).
	ReadSubjects []string
	// ReadStreams are the streams read-only identities may read: their
	// information and their messages by sequence.
	ReadStreams []string
	// ConsumeStreams are the streams on which read-only identities may
	// create, read and delete consumers, durable or not.
	//
	// Whoever creates a consumer picks its deliver subject, and JetStream
	// stores what a consumer delivers in any stream whose subjects match
	// it (once anybody subscribes there). A consumer on the lifecycle
	// stream delivering into the events subjects would write into the
	// journal, so list here only streams that no stream must receive
	// from: the journal, which JetStream refuses to deliver into its own
	// subjects (a cycle).
	ConsumeStreams []string
}

// ErrIdentity is wrapped by Start's errors about Auth.Identities.
var ErrIdentity = errors.New("natsd: invalid identity")

// gatewayIdentity is the server-side half of the key the gateway's own
// connections authenticate with: made at each start, never written
// anywhere, accepted on in-process connections only.
type gatewayIdentity struct {
	kp  nkeys.KeyPair
	pub string
	// sys is the same for the system account (system.go): clustered
	// servers only, for the JetStream meta API.
	sysKP  nkeys.KeyPair
	sysPub string
}

func newGatewayIdentity() (*gatewayIdentity, error) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return nil, fmt.Errorf("natsd: make the gateway's key: %w", err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("natsd: make the gateway's key: %w", err)
	}
	sysKP, err := nkeys.CreateUser()
	if err != nil {
		return nil, fmt.Errorf("natsd: make the gateway's key: %w", err)
	}
	sysPub, err := sysKP.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("natsd: make the gateway's key: %w", err)
	}
	return &gatewayIdentity{kp: kp, pub: pub, sysKP: sysKP, sysPub: sysPub}, nil
}

// option is how an in-process connection authenticates as the gateway.
func (g *gatewayIdentity) option() nats.Option {
	return nats.Nkey(g.pub, g.kp.Sign)
}

// applyAuth sets the server's users: the gateway's in-process identity
// with every permission, and each configured identity with its access.
// Every client must authenticate; one that does not is refused with
// "Authorization Violation".
func applyAuth(opts *server.Options, a Auth, gw *gatewayIdentity) error {
	users := []*server.NkeyUser{{
		Nkey:                   gw.pub,
		AllowedConnectionTypes: map[string]struct{}{jwt.ConnectionTypeInProcess: {}},
	}}
	if sys := systemAccount(opts); sys != nil {
		users = append(users, &server.NkeyUser{
			Nkey: gw.sysPub, Account: sys,
			AllowedConnectionTypes: map[string]struct{}{jwt.ConnectionTypeInProcess: {}},
		})
	}
	seen := map[string]string{gw.pub: "the gateway", gw.sysPub: "the gateway"}
	for _, id := range a.Identities {
		if !nkeys.IsValidPublicUserKey(id.NKey) {
			return fmt.Errorf("%w %q: %q is not a public user nkey (one starts with \"U\")", ErrIdentity, id.Name, id.NKey)
		}
		if other, dup := seen[id.NKey]; dup {
			return fmt.Errorf("%w %q: the same nkey as %s", ErrIdentity, id.Name, other)
		}
		seen[id.NKey] = fmt.Sprintf("%q", id.Name)
		u := &server.NkeyUser{
			Nkey: id.NKey,
			// Over the network only: the in-process path is the gateway's.
			AllowedConnectionTypes: map[string]struct{}{jwt.ConnectionTypeStandard: {}},
		}
		switch id.Access {
		case Full:
		case ReadOnly:
			u.Permissions = readPermissions(a)
		default:
			return fmt.Errorf("%w %q: no access given", ErrIdentity, id.Name)
		}
		users = append(users, u)
	}
	opts.Nkeys = users
	return nil
}

// readPermissions are a read-only identity's: subscribe to the read
// subjects and to inboxes (where JetStream answers), and call only the
// JetStream API requests that read a stream or manage a consumer on it.
// Everything else is refused, publishing into a stream first of all.
func readPermissions(a Auth) *server.Permissions {
	pub := []string{"$JS.API.INFO", "$JS.API.STREAM.NAMES", "$JS.API.STREAM.LIST"}
	for _, s := range a.ReadStreams {
		pub = append(pub,
			"$JS.API.STREAM.INFO."+s,
			"$JS.API.STREAM.MSG.GET."+s,
			"$JS.API.DIRECT.GET."+s, "$JS.API.DIRECT.GET."+s+".>",
		)
	}
	for _, s := range a.ConsumeStreams {
		pub = append(pub,
			"$JS.API.CONSUMER.CREATE."+s, "$JS.API.CONSUMER.CREATE."+s+".>",
			"$JS.API.CONSUMER.DURABLE.CREATE."+s+".*",
			"$JS.API.CONSUMER.INFO."+s+".*",
			"$JS.API.CONSUMER.DELETE."+s+".*",
			"$JS.API.CONSUMER.NAMES."+s, "$JS.API.CONSUMER.LIST."+s,
			"$JS.API.CONSUMER.MSG.NEXT."+s+".*",
			"$JS.ACK."+s+".>",
			"$JS.FC."+s+".>",
		)
	}
	sub := append([]string{"_INBOX.>"}, a.ReadSubjects...)
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: pub},
		Subscribe: &server.SubjectPermission{Allow: sub},
	}
}

// SetAuth replaces who may connect over the network, without a restart:
// connections of identities still declared stay, those of removed ones are
// closed, new ones may connect. The gateway's own connections are not
// touched.
func (s *Server) SetAuth(a Auth) error {
	s.optsMu.Lock()
	defer s.optsMu.Unlock()
	opts := s.opts.Clone()
	if err := applyAuth(opts, a, s.gw); err != nil {
		return err
	}
	if err := s.ns.ReloadOptions(opts); err != nil {
		return fmt.Errorf("natsd: new identities: %w", err)
	}
	s.opts = opts
	return nil
}
