package sdk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/hashicorp/go-hclog"
	pb "github.com/licensegw/licensegw/sdk/proto"
)

// framesServer serves a plugin's sessions on the data plane: a unix
// socket in a private directory, one session per connection that
// presents the cookie.
type framesServer struct {
	seats  *sessionServer
	log    hclog.Logger
	ln     net.Listener
	dir    string
	cookie []byte
	ctx    context.Context
	cancel context.CancelFunc

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// listenFrames opens the data plane for seats.
func listenFrames(seats *sessionServer, log hclog.Logger) (*framesServer, error) {
	ln, dir, err := listenFrameSocket()
	if err != nil {
		return nil, fmt.Errorf("the Seats data plane: %w", err)
	}
	cookie := make([]byte, cookieLen)
	_, _ = rand.Read(cookie) // never fails (crypto/rand)
	ctx, cancel := context.WithCancel(context.Background())
	fs := &framesServer{
		seats: seats, log: log, ln: ln, dir: dir, cookie: cookie,
		ctx: ctx, cancel: cancel, conns: map[net.Conn]struct{}{},
	}
	fs.wg.Go(fs.accept)
	return fs, nil
}

// socket is the address plugins dial.
func (fs *framesServer) socket() string { return fs.ln.Addr().String() }

func (fs *framesServer) accept() {
	for {
		nc, err := fs.ln.Accept()
		if err != nil {
			return // closed
		}
		fs.mu.Lock()
		if fs.ctx.Err() != nil {
			fs.mu.Unlock()
			nc.Close()
			return
		}
		fs.conns[nc] = struct{}{}
		fs.wg.Go(func() { fs.session(nc) })
		fs.mu.Unlock()
	}
}

// session serves one connection until it ends.
func (fs *framesServer) session(nc net.Conn) {
	defer func() {
		fs.mu.Lock()
		delete(fs.conns, nc)
		fs.mu.Unlock()
		nc.Close()
	}()
	if err := checkCookie(nc, fs.cookie); err != nil {
		fs.log.Warn("refused a connection to the Seats data plane", "error", err)
		return
	}
	pc, first, err := takePipes(nc)
	if err != nil {
		fs.log.Warn("refused a connection to the Seats data plane", "error", err)
		return
	}
	conn := nc
	if pc != nil {
		// The session runs on the pipes; closing them (close, the
		// deferred Close) also closes nc.
		conn = pc
		fs.mu.Lock()
		delete(fs.conns, nc)
		fs.conns[pc] = struct{}{}
		fs.mu.Unlock()
		defer func() {
			fs.mu.Lock()
			delete(fs.conns, pc)
			fs.mu.Unlock()
			pc.Close()
		}()
	}
	ctx, cancel := context.WithCancel(fs.ctx)
	defer cancel()
	// The session's writer may be blocked in a write when the session
	// ends: closing the connection unblocks it.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	_ = fs.seats.serve(&frameServerStream{frameConn: newFrameConnAfter(conn, first), ctx: ctx})
}

// frameServerStream is the gateway's side of a session on the data plane.
// Its frames are decoded into reused requests (frameDecoder).
type frameServerStream struct {
	*frameConn
	ctx context.Context
	dec frameDecoder
}

func (s *frameServerStream) Send(f *pb.GatewayFrame) error { return s.write(f) }

// Recv reads the next frame. Its requests may be the decoder's own,
// overwritten by the next Recv (reusesRequests).
func (s *frameServerStream) Recv() (*pb.PluginFrame, error) {
	b, err := s.readRaw()
	if err != nil {
		return nil, err
	}
	f, _, err := s.dec.decode(b)
	return f, err
}

func (s *frameServerStream) Context() context.Context { return s.ctx }

// reusesRequests marks a stream whose Recv reuses the requests it returns.
func (s *frameServerStream) reusesRequests() {}

// doneWithFrameOnSend marks a stream whose Send has marshalled the frame
// (frameConn.write) when it returns: the session may reuse the frame's
// answers then (answerSlot).
func (s *frameServerStream) doneWithFrameOnSend() {}

// close ends every session and removes the socket.
func (fs *framesServer) close() {
	fs.mu.Lock()
	fs.cancel()
	fs.ln.Close()
	for nc := range fs.conns {
		nc.Close()
	}
	fs.mu.Unlock()
	fs.wg.Wait()
	if fs.dir != "" {
		os.RemoveAll(fs.dir)
	}
}

// listenFrameSocket listens on a new unix socket for the data plane. On
// Linux it is an abstract socket (a random name, no file), which vanishes
// with the gateway however it ends, even killed; elsewhere it is a file in
// a new directory only the gateway's user may enter (0700), removed by
// close. Either way a connection must present the cookie first.
func listenFrameSocket() (net.Listener, string, error) {
	if runtime.GOOS == "linux" {
		name := make([]byte, 16)
		_, _ = rand.Read(name)
		ln, err := net.Listen("unix", "@licensegw-seats-"+hex.EncodeToString(name))
		return ln, "", err
	}
	dir, err := os.MkdirTemp("", "licensegw-seats-") // 0700
	if err != nil {
		return nil, "", err
	}
	ln, err := net.Listen("unix", filepath.Join(dir, "s"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	return ln, dir, nil
}

// FramesServer serves seats on the Seats data plane: what Remote.Configure
// offers a plugin, exported for hosts and tests that build their own
// transport (sdktest.Session).
type FramesServer struct{ fs *framesServer }

// ListenFrames serves seats on a new data-plane socket. log may be nil.
func ListenFrames(seats Seats, log hclog.Logger) (*FramesServer, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	fs, err := listenFrames(newSessionServer(seats, log), log)
	if err != nil {
		return nil, err
	}
	return &FramesServer{fs}, nil
}

// Socket is the unix socket plugins dial.
func (s *FramesServer) Socket() string { return s.fs.socket() }

// Cookie is what a connection must present first.
func (s *FramesServer) Cookie() []byte { return s.fs.cookie }

// Close ends every session and removes the socket.
func (s *FramesServer) Close() { s.fs.close() }
