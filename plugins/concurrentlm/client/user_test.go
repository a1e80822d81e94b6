package client

import (
	"errors"
	"os/user"
	"testing"
)

// TestUserName: $USER first; with no user variable set (systemd, cron,
// containers) the process's account, not "unknown".
func TestUserName(t *testing.T) {
	me := func() (*user.User, error) { return &user.User{Username: "svc-build"}, nil }
	none := func() (*user.User, error) { return nil, errors.New("no passwd entry") }
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	tests := []struct {
		name    string
		getenv  func(string) string
		current func() (*user.User, error)
		want    string
	}{
		{"USER", env(map[string]string{"USER": "alice", "LOGNAME": "bob"}), me, "alice"},
		{"LOGNAME", env(map[string]string{"LOGNAME": "bob"}), me, "bob"},
		{"no variables: the account", env(nil), me, "svc-build"},
		{"no variables, no account", env(nil), none, "unknown"},
	}
	for _, tt := range tests {
		if got := userName(tt.getenv, tt.current); got != tt.want {
			t.Errorf("%s: userName = %q, want %q", tt.name, got, tt.want)
		}
	}
	// And for real: this process's account when the variables are unset.
	u, err := user.Current()
	if err != nil {
		t.Skip("no account for this process:", err)
	}
	if got := userName(env(nil), user.Current); got != u.Username {
		t.Errorf("userName with no variables = %q, want the account %q", got, u.Username)
	}
}
