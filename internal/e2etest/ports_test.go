package e2etest

import (
	"net"
	"testing"
)

func TestFreeAddrs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		free     func() (string, error)
		networks []string
	}{
		{"tcp", FreeTCPAddr, []string{"tcp"}},
		{"udp", FreeUDPAddr, []string{"udp"}},
		{"tcp+udp", FreeTCPUDPAddr, []string{"tcp", "udp"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, err := tc.free()
			if err != nil {
				t.Fatal(err)
			}
			// The address is free again for every network it was picked for.
			for _, nw := range tc.networks {
				var c interface{ Close() error }
				if nw == "tcp" {
					c, err = net.Listen(nw, addr)
				} else {
					c, err = net.ListenPacket(nw, addr)
				}
				if err != nil {
					t.Fatalf("%s %s not free: %v", nw, addr, err)
				}
				c.Close()
			}
		})
	}
}
