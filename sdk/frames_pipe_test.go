//go:build unix

package sdk

import (
	"context"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// memSeats grants every checkout: enough to see a session answer.
type memSeats struct{ Seats }

func (memSeats) Checkout(_ context.Context, req CheckoutRequest) (*Checkout, error) {
	return &Checkout{Outcome: Granted, Grant: &Grant{Lease: "l-" + req.Client.User, Feature: req.Feature, Count: 1, Expires: time.Now().Add(time.Minute)}}, nil
}

func listenPipeFrames(t *testing.T) *FramesServer {
	t.Helper()
	srv, err := ListenFrames(memSeats{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// sessionConns is what the server's open sessions run on.
func sessionConns(srv *FramesServer) []net.Conn {
	srv.fs.mu.Lock()
	defer srv.fs.mu.Unlock()
	var out []net.Conn
	for c := range srv.fs.conns {
		out = append(out, c)
	}
	return out
}

// checkoutVia opens a client on the data plane, with or without pipes,
// and has it check a seat out.
func checkoutVia(t *testing.T, srv *FramesServer, pipes bool) {
	t.Helper()
	l, err := newSeatsLink(framesOpener(srv.Socket(), srv.Cookie(), pipes), hclog.NewNullLogger(), func(error) {})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	co, err := l.Checkout(ctx, CheckoutRequest{Feature: "f", Client: Client{User: "u"}})
	if err != nil || co.Outcome != Granted || co.Grant.Lease != "l-u" {
		t.Fatalf("checkout (pipes %v): %+v %v", pipes, co, err)
	}
}

// TestFramesSessionRunsOnPipes: a plugin that offers pipes gets its
// answers on them, and the gateway's session runs on them; a plugin that
// sends its frames on the socket (an SDK from before pipes, or a gateway
// that did not offer them) is served on the socket as before.
func TestFramesSessionRunsOnPipes(t *testing.T) {
	for _, pipes := range []bool{true, false} {
		srv := listenPipeFrames(t)
		checkoutVia(t, srv, pipes)
		conns := sessionConns(srv)
		if len(conns) != 1 {
			t.Fatalf("pipes %v: %d sessions on the server, want 1", pipes, len(conns))
		}
		if _, onPipes := conns[0].(*pipeConn); onPipes != pipes {
			t.Errorf("pipes %v: the server's session runs on a %T", pipes, conns[0])
		}
	}
}

// TestFramesMalformedPipeOffers: an offer without two pipe ends is
// refused (the connection closes, nothing is answered), and the server
// keeps serving good sessions.
func TestFramesMalformedPipeOffers(t *testing.T) {
	srv := listenPipeFrames(t)
	file, err := os.CreateTemp(t.TempDir(), "not-a-pipe")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	fds, err := rawFDs(r, w, file)
	if err != nil {
		t.Fatal(err)
	}
	for name, rights := range map[string][]int{
		"no descriptors": nil,
		"one pipe end":   fds[:1],
		"three":          fds,
		"a regular file": {fds[0], fds[2]},
	} {
		nc, err := net.Dial("unix", srv.Socket())
		if err != nil {
			t.Fatal(err)
		}
		uc := nc.(*net.UnixConn)
		if _, err := uc.Write(srv.Cookie()); err != nil {
			t.Fatal(err)
		}
		var oob []byte
		if rights != nil {
			oob = syscall.UnixRights(rights...)
		}
		if _, _, err := uc.WriteMsgUnix([]byte{pipeOffer}, oob, nil); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_ = nc.SetReadDeadline(time.Now().Add(20 * time.Second))
		got, err := io.ReadAll(nc)
		var ne net.Error
		if len(got) != 0 || (err != nil && (!isNetError(err, &ne) || ne.Timeout())) {
			t.Errorf("%s: answered %q (%v), want the connection closed", name, got, err)
		}
		nc.Close()
	}
	checkoutVia(t, srv, true)
}

func isNetError(err error, ne *net.Error) bool {
	e, ok := err.(net.Error)
	if ok {
		*ne = e
	}
	return ok || err == io.EOF
}

// TestFramesPipesEndWithTheServer: closing the server ends a session on
// pipes: the plugin's reads see the end at once, nothing hangs.
func TestFramesPipesEndWithTheServer(t *testing.T) {
	srv, err := ListenFrames(memSeats{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	fc, err := dialFrames(ctx, srv.Socket(), srv.Cookie(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.nc.Close()
	if _, ok := fc.nc.(*pipeConn); !ok {
		t.Fatalf("the plugin's side runs on a %T", fc.nc)
	}
	// The server holds the session once it has taken the pipes.
	for deadline := time.Now().Add(10 * time.Second); len(sessionConns(srv)) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the server never took the session")
		}
	}
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-ctx.Done():
		t.Fatal("Close hung with a session on pipes")
	}
	_ = fc.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := fc.readRaw(); err != io.EOF {
		t.Fatalf("the plugin read %v after the server closed, want EOF", err)
	}
}
