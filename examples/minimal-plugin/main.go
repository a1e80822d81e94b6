// Command minimal-plugin is the smallest complete licensegw protocol
// plugin, written only against the sdk. Its line protocol, on one TCP port:
//
//	OUT <feature> <user> <host>  ->  OK <lease>  |  NO <reason>
//	IN <lease>                   ->  OK          |  NO <reason>
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/licensegw/licensegw/sdk"
)

func main() { sdk.Serve(minimal{}) }

type minimal struct{}

func (minimal) Info() sdk.Info {
	return sdk.Info{
		Name:        "minimal",
		Version:     "0.1.0",
		APIVersion:  sdk.APIVersion,
		Description: "a one-port line protocol: OUT feature user host / IN lease",
		Listeners:   []sdk.ListenerSpec{{Name: "tcp", Network: "tcp", Address: "127.0.0.1:7070"}},
		Config: sdk.Schema{
			{Name: "greeting", Type: sdk.String, Description: "a line sent to every new connection"},
		},
	}
}

func (minimal) Serve(ctx context.Context, env *sdk.Env) error {
	ln := env.Listeners["tcp"]
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait() // every connection is closed before Serve returns
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("accept: %w", err)
		}
		wg.Go(func() { session(ctx, env, conn) })
	}
}

func session(ctx context.Context, env *sdk.Env, conn net.Conn) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if g := env.Config.String("greeting", ""); g != "" {
		fmt.Fprintln(conn, g)
	}
	lines := bufio.NewScanner(conn)
	for lines.Scan() {
		fmt.Fprintln(conn, answer(ctx, env.Seats, strings.Fields(lines.Text()), conn.RemoteAddr().String()))
	}
}

func answer(ctx context.Context, seats sdk.Seats, f []string, addr string) string {
	switch {
	case len(f) == 4 && f[0] == "OUT":
		c, err := seats.Checkout(ctx, sdk.CheckoutRequest{
			Feature: f[1], Client: sdk.Client{User: f[2], Host: f[3], Addr: addr},
		})
		switch {
		case err != nil:
			return "NO unavailable"
		case c.Outcome == sdk.Granted:
			return "OK " + c.Grant.Lease
		default:
			return "NO " + c.Denial.Reason
		}
	case len(f) == 2 && f[0] == "IN":
		var gone *sdk.GoneError
		if err := seats.Checkin(ctx, f[1]); errors.As(err, &gone) {
			return "NO " + gone.Reason
		} else if err != nil {
			return "NO unavailable"
		}
		return "OK"
	}
	return "NO bad-request"
}
