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

// Session serves seats over the real Seats session (gRPC on a unix
// socket, protobuf encoding, batching) and returns the plugin's side, as
// sdk.Serve hands it a plugin: a plugin tested with it meets every
// encoding rule the gateway's session has (strings must be UTF-8, ...)
// instead of calling seats directly. Everything is closed when tb ends.
func Session(tb testing.TB, seats sdk.Seats) sdk.Seats {
	tb.Helper()
	ln, err := net.Listen("unix", filepath.Join(tb.TempDir(), "seats.sock"))
	if err != nil {
		tb.Fatalf("sdktest.Session: %v", err)
	}
	srv := grpc.NewServer()
	pb.RegisterSeatsServer(srv, sdk.NewSeatsServer(seats, nil))
	go func() { _ = srv.Serve(ln) }()
	conn, err := grpc.NewClient("unix://"+ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		srv.Stop()
		tb.Fatalf("sdktest.Session: %v", err)
	}
	c, err := sdk.NewSeatsClient(conn, nil)
	if err != nil {
		_ = conn.Close()
		srv.Stop()
		tb.Fatalf("sdktest.Session: %v", err)
	}
	tb.Cleanup(func() {
		c.Close()
		_ = conn.Close()
		srv.Stop()
	})
	return c
}
