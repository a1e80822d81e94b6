package pluginhost

import (
	"net"
	"strings"
	"testing"

	"github.com/licensegw/licensegw/sdk"
)

func TestBindAll(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	info := sdk.Info{Name: "p", Listeners: []sdk.ListenerSpec{
		{Name: "tcp", Network: "tcp", Address: "127.0.0.1:0"},
		{Name: "udp", Network: "udp", Address: "127.0.0.1:0"},
	}}
	tests := []struct {
		name    string
		info    sdk.Info
		listen  map[string]string
		wantErr string
	}{
		{name: "defaults", info: info},
		{name: "override", info: info, listen: map[string]string{"udp": "127.0.0.1:0"}},
		{name: "unknown override", info: info, listen: map[string]string{"http": ":80"}, wantErr: `no listener "http"`},
		{name: "port in use", info: info, listen: map[string]string{"tcp": busy.Addr().String()}, wantErr: "address already in use"},
		{name: "bad network", info: sdk.Info{Listeners: []sdk.ListenerSpec{{Name: "x", Network: "unix", Address: "/tmp/x"}}}, wantErr: "unsupported network"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			socks, err := bindAll(tt.info, tt.listen)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer closeAll(socks)
			if len(socks) != 2 || socks[0].network != "tcp" || socks[1].network != "udp" {
				t.Fatalf("sockets: %+v", socks)
			}
			// The bound sockets work before any plugin exists: a TCP
			// connect succeeds (the backlog holds it) and a datagram is
			// accepted by the kernel.
			c, err := net.Dial("tcp", socks[0].addr)
			if err != nil {
				t.Fatalf("connect to the held TCP socket: %v", err)
			}
			c.Close()
			u, err := net.Dial("udp", socks[1].addr)
			if err != nil {
				t.Fatal(err)
			}
			defer u.Close()
			if _, err := u.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
			for i, l := range inherited(socks) {
				if l.FDIndex != i || l.Address != socks[i].addr || files(socks)[i] != socks[i].file {
					t.Fatalf("inherited[%d] = %+v", i, l)
				}
			}
		})
	}
}
