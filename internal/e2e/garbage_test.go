package e2e

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// answerVerbs are the first tokens a server line may have.
var answerVerbs = map[string]bool{
	"OK": true, "GRANTED": true, "QUEUED": true, "DENIED": true, "GONE": true,
	"FEATURE": true, "END": true, "PONG": true, "ERR": true, "EVENT": true, "BYE": true,
}

// garbageLine makes a line a careless or hostile client might send: random
// bytes, or a verb with random pairs, odd quoting, duplicate keys. It never
// holds a newline, is never blank and never says QUIT.
func garbageLine(r *rand.Rand) string {
	verbs := []string{"HELLO", "CHECKOUT", "checkout", "HEARTBEAT", "CHECKIN", "CANCEL", "STATUS", "PING", "FROB", "", "=", "\"", "EVENT"}
	keys := []string{"feature", "user", "host", "count", "wait", "id", "lease", "ticket", "version", "bind", "nonce", "x", "", "Feature", "=", "id"}
	vals := []string{"cad", "u", "-1", "0", "99999999999999999999", "\"quoted value\"", "\"unterminated", "\"a\\\"b\"", "a=b", "", "conn",
		"\xff\xfe", "é", strings.Repeat("z", 100), "1.2.3", "\"\\\\\""}
	var b strings.Builder
	if r.IntN(4) == 0 {
		n := 1 + r.IntN(200)
		for range n {
			c := byte(r.IntN(256))
			if c == '\n' {
				c = '?'
			}
			b.WriteByte(c)
		}
	} else {
		b.WriteString(verbs[r.IntN(len(verbs))])
		for range r.IntN(6) {
			b.WriteString(strings.Repeat(" ", 1+r.IntN(2)))
			b.WriteString(keys[r.IntN(len(keys))])
			if r.IntN(8) != 0 {
				b.WriteString("=" + vals[r.IntN(len(vals))])
			}
		}
	}
	line := b.String()
	if f := strings.Fields(strings.TrimRight(line, "\r")); len(f) == 0 || strings.EqualFold(f[0], "QUIT") {
		return "PING"
	}
	return line
}

// TestGarbageInput sends hundreds of malformed and half-formed lines over
// TCP and UDP: every TCP line gets exactly one well-formed answer line, the
// plugin never crashes, and the gateway serves normally afterwards.
func TestGarbageInput(t *testing.T) {
	t.Parallel()
	g := StartGateway(t, `
feature "cad" {
  seats = 10000
}
`)
	r := rand.New(rand.NewPCG(1, 2))
	c := g.Dial()
	for i := range 400 {
		line := garbageLine(r)
		if strings.HasPrefix(line, "\r") && strings.TrimSpace(line) == "" {
			continue
		}
		ans, err := c.do(line)
		if err != nil {
			t.Fatalf("line %d %q: %v", i, line, err)
		}
		if !answerVerbs[ans.Verb] {
			t.Errorf("line %q answered %q", line, ans.Line)
		}
		if _, err := parseReply(ans.Line); err != nil {
			t.Errorf("line %q answered a malformed line %q: %v", line, ans.Line, err)
		}
	}

	u := g.UDP()
	for i := range 200 {
		req := fmt.Sprintf("%s id=g%d", garbageLine(r), i)
		ans, ok := u.Exchange(pad(req, 300), 2*time.Second)
		if !ok {
			continue // dropped: allowed for a datagram it cannot answer
		}
		if f := strings.Fields(ans); len(f) == 0 || !answerVerbs[f[0]] {
			t.Errorf("datagram %q answered %q", req, ans)
		}
	}

	if p := g.Plugin(); p.Restarts != 0 || p.State != "running" {
		t.Errorf("plugin after garbage: %+v", p)
	}
	expect(t, g.Dial().Do("PING"), "PONG")
	expect(t, g.Dial().Do("CHECKOUT feature=cad user=u host=h"), "GRANTED")
}
