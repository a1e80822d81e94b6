package wire

import (
	"testing"
	"time"
)

var hotLines = []string{
	"CHECKOUT feature=cad_pro user=alice host=ws-01 id=7\n",
	"HEARTBEAT lease=l0123456789abcdef0123456789abcdef id=8\n",
	"CHECKIN lease=l0123456789abcdef0123456789abcdef id=9\n",
}

func BenchmarkParseLine(b *testing.B) {
	var r Request
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := ParseLine(hotLines[i%len(hotLines)], &r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormatGranted(b *testing.B) {
	buf := make([]byte, 0, 256)
	exp := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		buf = append(buf[:0], "GRANTED"...)
		buf = AppendPair(buf, "lease", "l0123456789abcdef0123456789abcdef")
		buf = AppendPair(buf, "feature", "cad_pro")
		buf = AppendInt(buf, "count", 1)
		buf = AppendInt(buf, "ttl", 120)
		buf = AppendTime(buf, "expires", exp)
		buf = AppendPair(buf, "id", "7")
	}
}
