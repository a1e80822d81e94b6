package keygenfile

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func vendorKey(t testing.TB) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func issue(t testing.TB, priv ed25519.PrivateKey, s Spec) []byte {
	t.Helper()
	b, err := Issue(priv, s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOpen(t *testing.T) {
	pub, priv := vendorKey(t)
	otherPub, otherPriv := vendorKey(t)
	_ = otherPub
	good := Spec{ID: "lic-1", Name: "one", Key: "AAAA-BBBB", Issued: now.Add(-time.Hour), TTL: 30 * 24 * time.Hour}
	tamper := func(b []byte) []byte {
		c, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		// Change the first character, whatever it is (a fixed "x" left one
		// file in 64 untouched, and the test flaked).
		first := "x"
		if c.Enc[0] == 'x' {
			first = "y"
		}
		c.Enc = first + c.Enc[1:]
		out, _ := Armour(*c)
		return out
	}
	withAlg := func(b []byte, alg string) []byte {
		c, _ := Decode(b)
		c.Alg = alg
		out, _ := Armour(*c)
		return out
	}
	plain := good
	plain.Plain = true
	expiredFile := good
	expiredFile.Issued, expiredFile.TTL = now.Add(-48*time.Hour), 24*time.Hour
	expiredLicence := good
	expiredLicence.Expiry = now.Add(-time.Minute)
	noTTL := good
	noTTL.Issued, noTTL.TTL = now.Add(-10000*time.Hour), 0
	tests := []struct {
		name string
		data []byte
		key  string
		want error
	}{
		{"encrypted", issue(t, priv, good), "AAAA-BBBB", nil},
		{"plain", issue(t, priv, plain), "AAAA-BBBB", nil},
		{"no file ttl never expires", issue(t, priv, noTTL), "AAAA-BBBB", nil},
		{"crlf", []byte(strings.ReplaceAll(string(issue(t, priv, good)), "\n", "\r\n")), "AAAA-BBBB", nil},
		{"wrong key", issue(t, priv, good), "AAAA-CCCC", ErrKey},
		{"plain file, key of another licence", issue(t, priv, plain), "AAAA-CCCC", ErrMismatch},
		{"another vendor", issue(t, otherPriv, good), "AAAA-BBBB", ErrSignature},
		{"tampered", tamper(issue(t, priv, good)), "AAAA-BBBB", ErrSignature},
		{"rsa algorithm", withAlg(issue(t, priv, good), "aes-256-gcm+rsa-pss-sha256"), "AAAA-BBBB", ErrAlgorithm},
		{"expired file", issue(t, priv, expiredFile), "AAAA-BBBB", ErrExpired},
		{"expired licence", issue(t, priv, expiredLicence), "AAAA-BBBB", ErrExpired},
		{"empty", nil, "k", ErrFormat},
		{"no armour", []byte("hello"), "k", ErrFormat},
		{"no end", []byte(BeginLine + "\nAAAA\n"), "k", ErrFormat},
		{"not base64", []byte(BeginLine + "\n!!!!\n" + EndLine), "k", ErrFormat},
		{"not json", []byte(BeginLine + "\n" + base64.StdEncoding.EncodeToString([]byte("nope")) + "\n" + EndLine), "k", ErrFormat},
		{"too large", make([]byte, MaxFileSize+1), "k", ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Open(tt.data, tt.key, pub, now)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open: %v, want %v", err, tt.want)
			}
			if tt.want == nil && (l.ID != "lic-1" || l.Key != "AAAA-BBBB" || l.Name != "one") {
				t.Fatalf("licence %+v", l)
			}
		})
	}
}

func TestOpenRefusesAMachineFile(t *testing.T) {
	pub, priv := vendorKey(t)
	doc := `{"data":{"id":"m-1","type":"machines","attributes":{}},"meta":{"issued":"2026-11-29T00:00:00Z","ttl":0}}`
	enc, err := encrypt("K", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	c := Certificate{Enc: enc, Alg: AlgEncrypted, Sig: base64.StdEncoding.EncodeToString(ed25519.Sign(priv, []byte("license/"+enc)))}
	data, _ := Armour(c)
	if _, err := Open(data, "K", pub, now); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Open of a machine file: %v, want ErrMismatch", err)
	}
}

func TestParsePublicKey(t *testing.T) {
	pub, _ := vendorKey(t)
	hexKey := strings.ToUpper(strings.TrimSpace(" " + hexOf(pub) + "\n"))
	if k, err := ParsePublicKey(hexKey); err != nil || !k.Equal(pub) {
		t.Fatalf("ParsePublicKey: %v", err)
	}
	for _, bad := range []string{"", "zz", hexOf(pub)[:62], hexOf(pub) + "00", "e8601e48"} {
		if _, err := ParsePublicKey(bad); !errors.Is(err, ErrPublicKey) {
			t.Errorf("ParsePublicKey(%q): %v, want ErrPublicKey", bad, err)
		}
	}
	c := &Certificate{Enc: "x", Sig: "y", Alg: AlgEncrypted}
	if err := c.Verify(pub[:16]); !errors.Is(err, ErrPublicKey) {
		t.Errorf("Verify with a short key: %v", err)
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestIssueWritesKeygenShape(t *testing.T) {
	_, priv := vendorKey(t)
	data := issue(t, priv, Spec{ID: "x", Key: "K", Issued: now, TTL: time.Hour})
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if lines[0] != BeginLine || lines[len(lines)-1] != EndLine {
		t.Fatalf("armour: %q ... %q", lines[0], lines[len(lines)-1])
	}
	for _, l := range lines[1 : len(lines)-1] {
		if len(l) > 60 {
			t.Fatalf("payload line of %d characters", len(l))
		}
	}
	c, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if parts := strings.Split(c.Enc, "."); len(parts) != 3 {
		t.Fatalf("enc %q", c.Enc)
	}
	raw, _ := json.Marshal(c)
	if !strings.Contains(string(raw), `"alg":"aes-256-gcm+ed25519"`) {
		t.Fatalf("envelope %s", raw)
	}
}
