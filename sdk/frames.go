package sdk

import (
	"bufio"
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	pb "github.com/licensegw/licensegw/sdk/proto"
	"google.golang.org/protobuf/proto"
)

// The Seats data plane: the same Session as the gRPC stream, carried as
// length-prefixed protobuf frames on a unix socket of the gateway's (on
// Unix systems, on pipes passed over it: frames_pipe.go), with no gRPC,
// HTTP/2 or TLS in between. go-plugin keeps the plugin's
// lifecycle, handshake, health and the rare calls (Configure, Stop,
// Metrics) on its mutually authenticated gRPC connection; the seat calls,
// which are nearly all the traffic, take this path.
//
// Why no TLS: a unix socket's bytes never leave the kernel and no third
// process can read another pair's connection; the first bytes on every
// connection must be the 32-byte cookie the gateway handed the plugin over
// the authenticated Configure call, so a process that finds the socket
// cannot open a session. Encryption would protect bytes that never leave
// the kernel (listenFrameSocket says where the socket lives).
//
// Each side writes a whole batch (every request or answer pending, up to
// maxBatch) as one frame with one write system call; each side reads
// through a buffer, so a burst of frames costs one read.
const (
	cookieLen = 32
	// maxFrame bounds one frame: far above maxBatch requests or answers
	// (a status answer with every holder of a big feature is the largest).
	maxFrame = 64 << 20
	// helloTimeout bounds how long the gateway waits for a new
	// connection's cookie.
	helloTimeout = 10 * time.Second
	// frameBuffer is the read buffer of each side.
	frameBuffer = 64 << 10
)

// errFrameTooBig is a frame past maxFrame: the other side is broken.
var errFrameTooBig = errors.New("seats frame too big")

// frameConn carries one session's frames on a connection. Reads happen on
// the session's reader goroutine only, writes on its writer only, so
// neither needs a lock.
type frameConn struct {
	nc   net.Conn
	br   *bufio.Reader
	rbuf []byte // the last frame's bytes, reused
	wbuf []byte // length prefix and frame, reused
}

func newFrameConn(nc net.Conn) *frameConn {
	return &frameConn{nc: nc, br: bufio.NewReaderSize(nc, frameBuffer)}
}

// newFrameConnAfter is newFrameConn for a connection whose first bytes
// were already read: they are read again first.
func newFrameConnAfter(nc net.Conn, first []byte) *frameConn {
	if len(first) == 0 {
		return newFrameConn(nc)
	}
	return &frameConn{nc: nc, br: bufio.NewReaderSize(io.MultiReader(bytes.NewReader(first), nc), frameBuffer)}
}

// write sends m as one frame with one write.
func (f *frameConn) write(m proto.Message) error {
	b := append(f.wbuf[:0], 0, 0, 0, 0)
	b, err := proto.MarshalOptions{}.MarshalAppend(b, m)
	if err != nil {
		return err
	}
	n := len(b) - 4
	if n > maxFrame {
		return fmt.Errorf("%w: %d bytes", errFrameTooBig, n)
	}
	binary.BigEndian.PutUint32(b, uint32(n))
	if cap(b) <= 4*frameBuffer {
		f.wbuf = b // keep ordinary buffers; let a rare huge one go
	}
	_, err = f.nc.Write(b)
	return err
}

// read receives one frame into m.
func (f *frameConn) read(m proto.Message) error {
	return f.readWith(proto.UnmarshalOptions{}, m)
}

// readMerge receives one frame into m, merging: an emptied repeated field
// keeps its array, so a reused frame costs no allocation for it.
func (f *frameConn) readMerge(m proto.Message) error {
	return f.readWith(proto.UnmarshalOptions{Merge: true}, m)
}

func (f *frameConn) readWith(opts proto.UnmarshalOptions, m proto.Message) error {
	b, err := f.readRaw()
	if err != nil {
		return err
	}
	// Unmarshal copies strings and bytes out of b, so b is reused.
	return opts.Unmarshal(b, m)
}

// readRaw receives one frame's bytes, valid until the next read.
func (f *frameConn) readRaw() ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(f.br, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > maxFrame {
		return nil, fmt.Errorf("%w: %d bytes", errFrameTooBig, n)
	}
	if cap(f.rbuf) < int(n) || cap(f.rbuf) > 4*frameBuffer && n <= 4*frameBuffer {
		// Grown for this frame, or shrunk after a rare huge one.
		f.rbuf = make([]byte, n)
	}
	b := f.rbuf[:n]
	if _, err := io.ReadFull(f.br, b); err != nil {
		return nil, err
	}
	return b, nil
}

// frameClientStream is the plugin's side of a session on the data plane.
// The session encodes frames under its lock and has one caller at a time
// write them (frameWriter); Recv reuses one frame, whose responses and
// updates the session's reader is done with before it calls Recv again.
type frameClientStream struct {
	*frameConn
	in  pb.GatewayFrame
	wdl time.Time // the write deadline last set
}

// frameWriteTimeout bounds one frame's write: a gateway that reads
// nothing for this long is wedged, and the session ends (and reopens)
// rather than keep a caller waiting past its deadline.
const frameWriteTimeout = 10 * time.Second

var _ frameWriter = (*frameClientStream)(nil)

// Send encodes and writes f (the frameWriter steps in one).
func (s *frameClientStream) Send(f *pb.PluginFrame) error {
	b, err := s.encode(f)
	if err != nil {
		return err
	}
	return s.send(b)
}

// encode marshals f behind its length prefix into the write buffer. A
// frame that cannot be encoded ends the session: the connection is closed
// so that the reader sees it end too.
func (s *frameClientStream) encode(f *pb.PluginFrame) ([]byte, error) {
	b := append(s.wbuf[:0], 0, 0, 0, 0)
	b, err := proto.MarshalOptions{}.MarshalAppend(b, f)
	if err == nil && len(b)-4 > maxFrame {
		err = fmt.Errorf("%w: %d bytes", errFrameTooBig, len(b)-4)
	}
	if err != nil {
		s.nc.Close()
		return nil, err
	}
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	if cap(b) <= 4*frameBuffer {
		s.wbuf = b // keep ordinary buffers; let a rare huge one go
	}
	return b, nil
}

// send writes an encoded frame with one write; on failure the connection
// is closed, so that the reader sees the session end.
func (s *frameClientStream) send(b []byte) error {
	if now := time.Now(); s.wdl.Sub(now) < frameWriteTimeout*3/4 {
		s.wdl = now.Add(frameWriteTimeout)
		_ = s.nc.SetWriteDeadline(s.wdl)
	}
	if _, err := s.nc.Write(b); err != nil {
		s.nc.Close()
		return err
	}
	return nil
}

// recvRaw reads the next frame's bytes, for the session to decode itself
// (frames_decode.go); they are valid until the next call.
func (s *frameClientStream) recvRaw() ([]byte, error) { return s.readRaw() }

// Recv reads the next frame into the stream's reused frame.
func (s *frameClientStream) Recv() (*pb.GatewayFrame, error) {
	f := &s.in
	clear(f.Responses)
	clear(f.Updates)
	f.Responses, f.Updates = f.Responses[:0], f.Updates[:0]
	return f, s.readMerge(f)
}

// dialFrames opens a session on the data plane at socket, presenting
// cookie; with pipes (the gateway takes them), its frames then travel on
// pipes (frames_pipe.go).
func dialFrames(ctx context.Context, socket string, cookie []byte, pipes bool) (*frameConn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return nil, err
	}
	if _, err := nc.Write(cookie); err != nil {
		nc.Close()
		return nil, err
	}
	if !pipes {
		return newFrameConn(nc), nil
	}
	pc, err := offerPipes(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return newFrameConn(pc), nil
}

// checkCookie reads a new connection's cookie and compares it with want.
func checkCookie(nc net.Conn, want []byte) error {
	got := make([]byte, len(want))
	_ = nc.SetReadDeadline(time.Now().Add(helloTimeout))
	if _, err := io.ReadFull(nc, got); err != nil {
		return fmt.Errorf("reading the cookie: %w", err)
	}
	_ = nc.SetReadDeadline(time.Time{})
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return errors.New("wrong cookie")
	}
	return nil
}
