package sdktest

import (
	"net"
	"path/filepath"
	"testing"

	"github.com/licensegw/licensegw/sdk"
	pb "github.com/licensegw/licensegw/sdk/proto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Session serves seats over the real Seats session as the gateway offers
// it to plugins (the data plane: length-prefixed protobuf frames on a unix
// socket, batching, the cookie) and returns the plugin's side, as sdk.Serve
// hands it a plugin: a plugin tested with it meets every encoding rule the
// gateway's session has (strings must be UTF-8, ...) instead of calling
// seats directly. Everything is closed when tb ends.
func Session(tb testing.TB, seats sdk.Seats) sdk.Seats {
	tb.Helper()
	srv, err := sdk.ListenFrames(seats, nil)
	if err != nil {
		tb.Fatalf("sdktest.Session: %v", err)
	}
	c, err := sdk.NewFramesSeatsClient(srv.Socket(), srv.Cookie(), nil)
	if err != nil {
		srv.Close()
		tb.Fatalf("sdktest.Session: %v", err)
	}
	tb.Cleanup(func() {
		c.Close()
		srv.Close()
	})
	return c
}

// GRPCSession is Session over the gRPC Session stream on the go-plugin
// broker, the fallback a gateway keeps for plugins built with an SDK older
// than the data plane (and LICENSEGW_SEATS_TRANSPORT=grpc).
func GRPCSession(tb testing.TB, seats sdk.Seats) sdk.Seats {
	tb.Helper()
	ln, err := net.Listen("unix", filepath.Join(tb.TempDir(), "seats.sock"))
	if err != nil {
		tb.Fatalf("sdktest.GRPCSession: %v", err)
	}
	srv := grpc.NewServer()
	pb.RegisterSeatsServer(srv, sdk.NewSeatsServer(seats, nil))
	go func() { _ = srv.Serve(ln) }()
	conn, err := grpc.NewClient("unix://"+ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		srv.Stop()
		tb.Fatalf("sdktest.GRPCSession: %v", err)
	}
	c, err := sdk.NewSeatsClient(conn, nil)
	if err != nil {
		_ = conn.Close()
		srv.Stop()
		tb.Fatalf("sdktest.GRPCSession: %v", err)
	}
	tb.Cleanup(func() {
		c.Close()
		_ = conn.Close()
		srv.Stop()
	})
	return c
}
