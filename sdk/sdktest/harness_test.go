package sdktest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensegw/licensegw/sdk"
)

// linePlugin is a test plugin: on TCP "OUT feature" answers "OK lease" or
// "NO reason"; on UDP it echoes datagrams upper-cased.
type linePlugin struct{}

func (linePlugin) Info() sdk.Info {
	return sdk.Info{
		Name: "line", Version: "1.0", APIVersion: sdk.APIVersion,
		Listeners: []sdk.ListenerSpec{{Name: "tcp", Network: "tcp", Address: ":9999"}, {Name: "udp", Network: "udp", Address: ":9999"}},
		Config:    sdk.Schema{{Name: "prefix", Type: sdk.String}, {Name: "n", Type: sdk.Number}},
	}
}

func (linePlugin) Serve(ctx context.Context, env *sdk.Env) error {
	ln, pc := env.Listeners["tcp"], env.PacketConns["udp"]
	stop := context.AfterFunc(ctx, func() { ln.Close(); pc.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		buf := make([]byte, 512)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo([]byte(strings.ToUpper(string(buf[:n]))), addr)
		}
	})
	prefix := env.Config.String("prefix", "") + fmt.Sprint(env.Config.Int("n", 0))
	for {
		conn, err := ln.Accept()
		if err != nil {
			return nil
		}
		wg.Go(func() {
			defer conn.Close()
			stop := context.AfterFunc(ctx, func() { conn.Close() })
			defer stop()
			sc := bufio.NewScanner(conn)
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) != 2 {
					fmt.Fprintln(conn, "NO bad-request")
					continue
				}
				c, err := env.Seats.Checkout(ctx, sdk.CheckoutRequest{Feature: f[1]})
				switch {
				case err != nil:
					fmt.Fprintln(conn, "NO unavailable")
				case c.Outcome == sdk.Granted:
					fmt.Fprintln(conn, prefix, "OK", c.Grant.Lease)
				default:
					fmt.Fprintln(conn, prefix, "NO", c.Denial.Reason)
				}
			}
		})
	}
}

func TestRun(t *testing.T) {
	seats := NewSeats(Feature{Name: "cad", Seats: 1})
	h := Run(t, linePlugin{}, seats, map[string]any{"prefix": "p", "n": 7})

	conn, err := net.Dial("tcp", h.Addr("tcp"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	for _, want := range []string{"p7 OK ", "p7 NO no-seats"} {
		fmt.Fprintln(conn, "OUT cad")
		line, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, want) {
			t.Fatalf("got %q, %v; want prefix %q", line, err, want)
		}
	}

	u, err := net.Dial("udp", h.Addr("udp"))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	_ = u.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := u.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if n, err := u.Read(buf); err != nil || string(buf[:n]) != "PING" {
		t.Fatalf("udp: %q, %v", buf[:n], err)
	}

	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", h.Addr("tcp"), time.Second); err == nil {
		t.Fatal("listener still accepts after Stop")
	}
}

func TestConformance(t *testing.T) {
	Conformance(t, linePlugin{})
}

func TestCheckInfo(t *testing.T) {
	valid := linePlugin{}.Info()
	tests := []struct {
		name   string
		mutate func(*sdk.Info)
		errs   int
	}{
		{"valid", func(*sdk.Info) {}, 0},
		{"no name", func(i *sdk.Info) { i.Name = "" }, 1},
		{"no version", func(i *sdk.Info) { i.Version = "" }, 1},
		{"api version", func(i *sdk.Info) { i.APIVersion = sdk.APIVersion + 1 }, 1},
		{"duplicate listener", func(i *sdk.Info) { i.Listeners[1].Name = "tcp" }, 1},
		{"bad network", func(i *sdk.Info) { i.Listeners[0].Network = "unix" }, 1},
		{"bad address", func(i *sdk.Info) { i.Listeners[0].Address = "1648" }, 1},
		{"bad attr type", func(i *sdk.Info) { i.Config[0].Type = "map" }, 1},
		{"duplicate attr", func(i *sdk.Info) { i.Config[1].Name = "prefix" }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := valid
			info.Listeners = append([]sdk.ListenerSpec(nil), valid.Listeners...)
			info.Config = append(sdk.Schema(nil), valid.Config...)
			tt.mutate(&info)
			if errs := CheckInfo(info); len(errs) != tt.errs {
				t.Fatalf("CheckInfo: %v, want %d error(s)", errs, tt.errs)
			}
		})
	}
}
