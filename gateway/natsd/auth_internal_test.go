package natsd

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// TestGatewayKeyInProcessOnly: the gateway's key, were it ever to leak,
// does not open the network listener.
func TestGatewayKeyInProcessOnly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Start(ctx, Config{Listen: "127.0.0.1:0", StoreDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	nc, err := nats.Connect(s.ClientURL(), s.gw.option(), nats.Timeout(20*time.Second))
	if err == nil {
		nc.Close()
		t.Fatal("the gateway's key connected over TCP")
	}
	if !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(strings.ToLower(err.Error()), "authorization") {
		t.Fatalf("err = %v", err)
	}
	in, err := s.Connect()
	if err != nil {
		t.Fatalf("in-process: %v", err)
	}
	in.Close()
}

func TestIdentityErrors(t *testing.T) {
	user, _ := nkeys.CreateUser()
	pub, _ := user.PublicKey()
	acct, _ := nkeys.CreateAccount()
	apub, _ := acct.PublicKey()
	tests := []struct {
		name string
		ids  []Identity
		want string
	}{
		{"not a key", []Identity{{Name: "a", NKey: "nope", Access: ReadOnly}}, "not a public user nkey"},
		{"account key", []Identity{{Name: "a", NKey: apub, Access: ReadOnly}}, "not a public user nkey"},
		{"duplicate", []Identity{{Name: "a", NKey: pub, Access: ReadOnly}, {Name: "b", NKey: pub, Access: Full}}, `the same nkey as "a"`},
		{"no access", []Identity{{Name: "a", NKey: pub}}, "no access"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw, err := newGatewayIdentity()
			if err != nil {
				t.Fatal(err)
			}
			_, err = options(Config{StoreDir: t.TempDir(), Auth: Auth{Identities: tt.ids}}, gw)
			if !errors.Is(err, ErrIdentity) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrIdentity with %q", err, tt.want)
			}
		})
	}
}
