package natscreds_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/licensegw/licensegw/gateway/natscreds"
)

func newUser(t testing.TB) (seed, pub string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	s, _ := kp.Seed()
	p, _ := kp.PublicKey()
	return string(s), p
}

// jwtCreds is a decorated .creds file for a new user signed by a new
// account.
func jwtCreds(t testing.TB) (creds []byte, pub string) {
	t.Helper()
	acct, _ := nkeys.CreateAccount()
	user, _ := nkeys.CreateUser()
	pub, _ = user.PublicKey()
	token, err := jwt.NewUserClaims(pub).Encode(acct)
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := user.Seed()
	creds, err = jwt.FormatUserConfig(token, seed)
	if err != nil {
		t.Fatal(err)
	}
	return creds, pub
}

func TestParse(t *testing.T) {
	seed, pub := newUser(t)
	creds, jwtPub := jwtCreds(t)
	acct, _ := nkeys.CreateAccount()
	acctSeed, _ := acct.Seed()
	// One character changed in the middle of the seed, where every bit is
	// data (the last character's low bits are padding, so changing it
	// sometimes changed nothing and the test flaked), and always to another
	// character.
	mid := len(seed) / 2
	other := "A"
	if seed[mid] == 'A' {
		other = "B"
	}
	altered := seed[:mid] + other + seed[mid+1:]
	tests := []struct {
		name    string
		text    string
		kind    natscreds.Kind
		pub     string
		wantErr error
		errHas  string
	}{
		{"bare seed", seed, natscreds.NKeySeed, pub, nil, ""},
		{"seed and newline", seed + "\n", natscreds.NKeySeed, pub, nil, ""},
		{"comments around", "# audit\n\n" + seed + "\n# end\n", natscreds.NKeySeed, pub, nil, ""},
		{"jwt creds", string(creds), natscreds.JWTCreds, jwtPub, nil, ""},
		{"empty", "", 0, "", natscreds.ErrNoCredentials, "no seed line"},
		{"only comments", "# nothing\n", 0, "", natscreds.ErrNoCredentials, ""},
		{"truncated", "# x\n" + seed[:40] + "\n", 0, "", natscreds.ErrMalformed, "line 2"},
		{"altered", altered, 0, "", natscreds.ErrMalformed, "truncated or altered"},
		{"account seed", string(acctSeed), 0, "", natscreds.ErrMalformed, "not a user"},
		{"public key", pub, 0, "", natscreds.ErrMalformed, "not a user nkey seed"},
		{"two seeds", seed + "\n" + seed + "\n", 0, "", natscreds.ErrMalformed, "second key"},
		{"indented", "  " + seed, 0, "", natscreds.ErrMalformed, "white space"},
		{"crlf", seed + "\r\n", 0, "", natscreds.ErrMalformed, "white space"},
		{"password", "user:secret", 0, "", natscreds.ErrMalformed, "line 1"},
		{"binary", "\xff\xfe", 0, "", natscreds.ErrMalformed, "UTF-8"},
		{"jwt truncated", string(creds[:len(creds)/2]), 0, "", natscreds.ErrMalformed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := natscreds.Parse([]byte(tt.text))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("err = %v, want %v containing %q", err, tt.wantErr, tt.errHas)
				}
				if strings.Contains(err.Error(), "SU") && len(tt.text) > 10 && strings.Contains(err.Error(), tt.text[:10]) {
					t.Errorf("error repeats the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Kind != tt.kind || c.PublicKey != tt.pub {
				t.Errorf("Parse = %+v, want %v %s", c, tt.kind, tt.pub)
			}
		})
	}
}

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "audit.nk")
	pub, created, err := natscreds.LoadOrCreate(path, []string{"read-only audit identity"})
	if err != nil || !created || !nkeys.IsValidPublicUserKey(pub) {
		t.Fatalf("LoadOrCreate = %q, %v, %v", pub, created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), "# read-only audit identity\n") {
		t.Errorf("file:\n%s", b)
	}
	// nats.go reads what was written, as the same user.
	kp, err := nkeys.ParseDecoratedNKey(b)
	if err != nil {
		t.Fatalf("nats.go's parser: %v", err)
	}
	if p, _ := kp.PublicKey(); p != pub {
		t.Errorf("nats.go reads %s, want %s", p, pub)
	}
	if _, err := natscreds.Option(path); err != nil {
		t.Errorf("Option: %v", err)
	}

	again, created, err := natscreds.LoadOrCreate(path, nil)
	if err != nil || created || again != pub {
		t.Fatalf("second LoadOrCreate = %q, %v, %v; want %q, false", again, created, err, pub)
	}

	// A damaged file is reported, never replaced.
	if err := os.WriteFile(path, b[:len(b)-20], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := natscreds.LoadOrCreate(path, nil); !errors.Is(err, natscreds.ErrMalformed) || !strings.Contains(err.Error(), path) {
		t.Fatalf("truncated file: err = %v, want ErrMalformed naming the file", err)
	}
	if after, _ := os.ReadFile(path); len(after) != len(b)-20 {
		t.Error("the damaged file was replaced")
	}
}

func TestOptionMissingFile(t *testing.T) {
	_, err := natscreds.Option(filepath.Join(t.TempDir(), "none.nk"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want not-exist", err)
	}
}

func TestFileTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(path, []byte(strings.Repeat("#\n", natscreds.MaxFileSize)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := natscreds.ReadFile(path); !errors.Is(err, natscreds.ErrMalformed) {
		t.Fatalf("err = %v", err)
	}
}
