//go:build unix

package sdk

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"
	"time"
)

// Pipes for the data plane. A session opens on the gateway's unix socket
// (the cookie authenticates it), and then, when both sides can, its frames
// travel on two pipes whose ends the plugin passes over that connection
// (SCM_RIGHTS).
//
// Why pipes: a unix stream socket wakes the writer's side every time the
// reader drains it (the kernel's unix_write_space signals "writable" on
// each read, with no check that anyone was waiting for room), so each
// frame read by one process wakes an idle thread of the other, which finds
// nothing to do. A pipe wakes writers only when it was full. Measured on
// the 2-core VM, two processes ping-ponging 64-byte frames: 34 µs p50 and
// 50 µs of CPU per round trip on a socket pair, 18-21 µs and 29-35 µs on
// two pipes. Pipes are as private as the socket: their ends exist only in
// the two processes, and they carry no bytes before the cookie was checked.

// pipeOffer is the byte that carries the pipe ends. Frames start with a
// 4-byte big-endian length no larger than maxFrame, whose first byte is
// at most 0x04, so a gateway tells an offer from a plugin that sends
// frames on the socket (an SDK from before pipes) by the first byte.
const pipeOffer = 'P'

// pipesSupported says whether this platform passes pipes.
const pipesSupported = true

// pipeConn is a session's connection on two pipes: it reads one and
// writes the other. ctl is the unix connection the pipes came over,
// closed with them.
type pipeConn struct {
	r, w *os.File
	ctl  net.Conn
}

var _ net.Conn = (*pipeConn)(nil)

func (p *pipeConn) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p *pipeConn) Write(b []byte) (int, error) { return p.w.Write(b) }

// Close closes both pipes, which ends the other side's reads (EOF) and
// writes (EPIPE), and unblocks this side's.
func (p *pipeConn) Close() error {
	return errors.Join(p.r.Close(), p.w.Close(), p.ctl.Close())
}

func (p *pipeConn) LocalAddr() net.Addr  { return p.ctl.LocalAddr() }
func (p *pipeConn) RemoteAddr() net.Addr { return p.ctl.RemoteAddr() }

func (p *pipeConn) SetDeadline(t time.Time) error {
	return errors.Join(p.r.SetDeadline(t), p.w.SetDeadline(t))
}
func (p *pipeConn) SetReadDeadline(t time.Time) error  { return p.r.SetReadDeadline(t) }
func (p *pipeConn) SetWriteDeadline(t time.Time) error { return p.w.SetWriteDeadline(t) }

// offerPipes is the plugin's side: it makes the session's two pipes,
// sends the gateway its ends on nc (after the cookie) and keeps its own.
func offerPipes(nc net.Conn) (*pipeConn, error) {
	uc, ok := nc.(*net.UnixConn)
	if !ok {
		return nil, fmt.Errorf("pipes need a unix connection, not %T", nc)
	}
	gr, pw, err := os.Pipe() // plugin -> gateway
	if err != nil {
		return nil, err
	}
	pr, gw, err := os.Pipe() // gateway -> plugin
	if err != nil {
		gr.Close()
		pw.Close()
		return nil, err
	}
	// The gateway's ends leave this process once sent: closing them here
	// is what lets either side see the other's end of the pipes close.
	defer gr.Close()
	defer gw.Close()
	fds, err := rawFDs(gr, gw)
	if err == nil {
		_, _, err = uc.WriteMsgUnix([]byte{pipeOffer}, syscall.UnixRights(fds...), nil)
	}
	if err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("passing the pipes: %w", err)
	}
	return &pipeConn{r: pr, w: pw, ctl: nc}, nil
}

// rawFDs returns the descriptors of files without the side effect of
// (*os.File).Fd, which would put them in blocking mode.
func rawFDs(files ...*os.File) ([]int, error) {
	fds := make([]int, 0, len(files))
	for _, f := range files {
		rc, err := f.SyscallConn()
		if err != nil {
			return nil, err
		}
		if err := rc.Control(func(fd uintptr) { fds = append(fds, int(fd)) }); err != nil {
			return nil, err
		}
	}
	return fds, nil
}

// takePipes is the gateway's side: it reads the byte after the cookie.
// When it is a pipe offer with two pipe ends, the session runs on them;
// otherwise the byte is the first of a frame on nc, returned as first,
// and pc is nil.
func takePipes(nc net.Conn) (pc *pipeConn, first []byte, err error) {
	uc, ok := nc.(*net.UnixConn)
	if !ok {
		return nil, nil, nil
	}
	var b [1]byte
	oob := make([]byte, syscall.CmsgSpace(2*4))
	n, oobn, flags, _, err := uc.ReadMsgUnix(b[:], oob)
	if err != nil {
		return nil, nil, err
	}
	files, err := receivedFiles(oob[:oobn])
	if err != nil {
		return nil, nil, err
	}
	switch {
	case n == 1 && b[0] == pipeOffer && len(files) == 2 && flags&syscall.MSG_CTRUNC == 0:
		if err := checkPipes(files); err != nil {
			closeFiles(files)
			return nil, nil, err
		}
		return &pipeConn{r: files[0], w: files[1], ctl: nc}, nil, nil
	case len(files) > 0 || flags&syscall.MSG_CTRUNC != 0 || (n == 1 && b[0] == pipeOffer):
		closeFiles(files)
		return nil, nil, errors.New("a malformed pipe offer")
	case n == 0:
		return nil, nil, errors.New("the plugin closed the connection")
	}
	return nil, b[:1], nil
}

// receivedFiles turns the descriptors in a control message into files,
// non-blocking (so that reads and writes go through the runtime's poller
// and honour deadlines) and closed on exec.
func receivedFiles(oob []byte) ([]*os.File, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("a pipe offer's control message: %w", err)
	}
	var files []*os.File
	for i := range msgs {
		fds, err := syscall.ParseUnixRights(&msgs[i])
		if err != nil {
			continue
		}
		for _, fd := range fds {
			syscall.CloseOnExec(fd)
			if err := syscall.SetNonblock(fd, true); err != nil {
				syscall.Close(fd)
				continue
			}
			files = append(files, os.NewFile(uintptr(fd), "seats-pipe"))
		}
	}
	return files, nil
}

// checkPipes makes sure the descriptors received are pipes.
func checkPipes(files []*os.File) error {
	for _, f := range files {
		st, err := f.Stat()
		if err != nil {
			return err
		}
		if st.Mode()&fs.ModeNamedPipe == 0 {
			return fmt.Errorf("a pipe offer passed a %v, not a pipe", st.Mode().Type())
		}
	}
	return nil
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}
