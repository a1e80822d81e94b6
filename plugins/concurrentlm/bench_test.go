package concurrentlm

import (
	"bufio"
	"net"
	"strings"
	"testing"

	"github.com/licensegw/licensegw/sdk/sdktest"
)

// BenchmarkTCPCycle is one client doing CHECKOUT -> HEARTBEAT -> CHECKIN
// request/response over loopback; an op is one request.
func BenchmarkTCPCycle(b *testing.B) {
	h := start(b, sdktest.NewSeats(sdktest.Feature{Name: "bench", Seats: 10}), map[string]any{"rate": 0})
	nc, err := net.Dial("tcp", h.tcp)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	call := func(line string) string {
		if _, err := nc.Write([]byte(line)); err != nil {
			b.Fatal(err)
		}
		ans, err := br.ReadString('\n')
		if err != nil {
			b.Fatal(err)
		}
		return ans
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ans := call("CHECKOUT feature=bench user=u host=h\n")
		lease := strings.Fields(ans)[1][len("lease="):]
		call("HEARTBEAT lease=" + lease + "\n")
		call("CHECKIN lease=" + lease + "\n")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(3*b.N), "ns/request")
}

// BenchmarkTCPPipelined pipelines 64 PINGs per round trip: the cost of the
// connection machinery without the gateway.
func BenchmarkTCPPipelined(b *testing.B) {
	h := start(b, sdktest.NewSeats(), map[string]any{"rate": 0})
	nc, err := net.Dial("tcp", h.tcp)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	batch := []byte(strings.Repeat("PING id=x\n", 64))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := nc.Write(batch); err != nil {
			b.Fatal(err)
		}
		for range 64 {
			if _, err := br.ReadSlice('\n'); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(64*b.N), "ns/request")
}
