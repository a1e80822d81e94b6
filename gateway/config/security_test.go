package config

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/token"
)

func TestAdminTokensAndTLS(t *testing.T) {
	dir, _ := filepath.Abs(filepath.Join("testdata", "security"))
	c, diags := Load(filepath.Join(dir, "admin.hcl"))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	a := c.Admin
	if a.TokenFile != filepath.Join(dir, "secrets", "admin.token") {
		t.Errorf("token file %q", a.TokenFile)
	}
	for i := range a.Tokens {
		a.Tokens[i].DeclRange = c.Admin.Tokens[0].DeclRange
	}
	d1, _ := token.ParseDigest("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
	d2, _ := token.ParseDigest("60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752")
	want := []Token{
		{Name: "dashboard", Scope: token.Read, Digest: d1, DeclRange: a.Tokens[0].DeclRange},
		{Name: "ops", Scope: token.Write, Digest: d2, Expires: time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC), DeclRange: a.Tokens[0].DeclRange},
	}
	if !reflect.DeepEqual(a.Tokens, want) {
		t.Errorf("tokens\n%+v\nwant\n%+v", a.Tokens, want)
	}
	wantTLS := TLS{
		CertFile: filepath.Join(dir, "tls", "admin.crt"), KeyFile: filepath.Join(dir, "tls", "admin.key"),
		ClientCAFile: filepath.Join(dir, "tls", "ca.crt"),
	}
	if a.TLS != wantTLS || !a.TLS.Enabled() {
		t.Errorf("tls %+v", a.TLS)
	}
}

func TestAdminTokensInvalid(t *testing.T) {
	_, diags := Load(filepath.Join("testdata", "security", "admin_invalid.hcl"))
	got := make([]want, 0, len(diags))
	for _, d := range diags {
		got = append(got, want{d.Summary, d.Subject.Start.Line, d.Subject.Start.Column})
	}
	wantDiags := []want{
		{"Invalid token hash", 3, 14},
		{"Invalid token hash", 7, 14},
		{"Invalid token scope", 12, 14},
		{"Reserved token name", 14, 9},
		{"Duplicate token", 22, 9},
		{"Duplicate token hash", 27, 14},
		{"Invalid date", 33, 15},
		{"File not found", 36, 17},
	}
	if !reflect.DeepEqual(got, wantDiags) {
		t.Errorf("diagnostics\n%v\nwant\n%v\n%s", got, wantDiags, diags.Error())
	}
}
