package flexlm

import (
	"net"
	"testing"

	"github.com/licensegw/licensegw/sdk"
)

func TestAdminPermissions(t *testing.T) {
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5}
	local6 := &net.TCPAddr{IP: net.IPv6loopback, Port: 5}
	mapped := &net.TCPAddr{IP: net.ParseIP("::ffff:127.0.0.1"), Port: 5}
	remote := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 5}
	tests := []struct {
		config   map[string]any
		from     net.Addr
		want     bool
		describe string
	}{
		{nil, local, true, "default, from loopback"},
		{nil, local6, true, "default, from ::1"},
		{nil, mapped, true, "default, from v4-mapped loopback"},
		{nil, remote, false, "default, from the network"},
		{map[string]any{"allow_remove": true}, remote, true, "true, from the network"},
		{map[string]any{"allow_remove": false}, local, false, "false, from loopback"},
	}
	for _, tt := range tests {
		cfg := sdk.NewConfig(tt.config)
		if got := permissionOf(cfg, "allow_remove").allows(tt.from); got != tt.want {
			t.Errorf("%s: allows = %v, want %v", tt.describe, got, tt.want)
		}
	}
}
