//go:build unix

package sdk

import (
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"
)

// echoChildEnv makes this test binary an echo child for
// BenchmarkFrameTransport instead of running tests: its value says on
// what ("socket": a socket pair at descriptor 3; "pipes": read 3, write 4).
const echoChildEnv = "LICENSEGW_SDK_ECHO_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(echoChildEnv); mode != "" {
		echoChild(mode)
		return
	}
	os.Exit(m.Run())
}

// echoChild sends back every 64-byte message until its input ends.
func echoChild(mode string) {
	var r io.Reader
	var w io.Writer
	if mode == "socket" {
		c, err := net.FileConn(os.NewFile(3, "socket"))
		if err != nil {
			os.Exit(2)
		}
		r, w = c, c
	} else {
		r, w = os.NewFile(3, "in"), os.NewFile(4, "out")
	}
	buf := make([]byte, 64)
	for {
		if _, err := io.ReadFull(r, buf); err != nil {
			return
		}
		if _, err := w.Write(buf); err != nil {
			return
		}
	}
}

// BenchmarkFrameTransport: why the data plane's frames travel on pipes. A
// child process echoes 64-byte messages, one round trip at a time, on a
// unix socket pair or on two pipes; reported beside the time per round
// trip are its p50 and the CPU both processes spent on it. On a socket
// every read wakes the other side's idle thread as well (the kernel
// signals the writer "writable" on each read); a pipe does not.
func BenchmarkFrameTransport(b *testing.B) {
	for _, mode := range []string{"socket", "pipes"} {
		b.Run(mode, func(b *testing.B) { benchTransport(b, mode) })
	}
}

func benchTransport(b *testing.B, mode string) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), echoChildEnv+"="+mode)
	var r io.Reader
	var w io.Writer
	var closers []io.Closer
	if mode == "socket" {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		if err != nil {
			b.Fatal(err)
		}
		mine, theirs := os.NewFile(uintptr(fds[0]), "mine"), os.NewFile(uintptr(fds[1]), "theirs")
		c, err := net.FileConn(mine)
		mine.Close()
		if err != nil {
			b.Fatal(err)
		}
		cmd.ExtraFiles = []*os.File{theirs}
		r, w = c, c
		closers = append(closers, c, theirs)
	} else {
		childIn, toChild, err := os.Pipe()
		if err != nil {
			b.Fatal(err)
		}
		fromChild, childOut, err := os.Pipe()
		if err != nil {
			b.Fatal(err)
		}
		cmd.ExtraFiles = []*os.File{childIn, childOut}
		r, w = fromChild, toChild
		closers = append(closers, toChild, fromChild, childIn, childOut)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	// The child's ends are its own now; the message ends stay open.
	for _, f := range cmd.ExtraFiles {
		f.Close()
	}
	msg := make([]byte, 64)
	lat := make([]time.Duration, 0, b.N)
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := w.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(r, msg); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	for _, c := range closers {
		c.Close()
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("echo child: %v", err)
	}
	slices.Sort(lat)
	cpu := func(ru *syscall.Rusage) float64 { return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e3 }
	child, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	n := float64(b.N)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	if child != nil {
		b.ReportMetric((cpu(&after)-cpu(&before)+cpu(child))/n, "cpu-µs/rt")
	}
}
