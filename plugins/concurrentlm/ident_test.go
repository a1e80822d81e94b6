package concurrentlm

import (
	"strings"
	"testing"
)

// TestIdentifierRules: values outside the gateway's identifier rules are
// bad-request, on every key that reaches the gateway, and the connection
// goes on.
func TestIdentifierRules(t *testing.T) {
	h := start(t, newSeats(), nil)
	c := h.dial(t)
	for _, line := range []string{
		"CHECKOUT feature=a.*> user=u host=h",
		"CHECKOUT feature=" + strings.Repeat("f", 65) + " user=u host=h",
		"CHECKOUT feature=cad user=" + strings.Repeat("u", 129) + " host=h",
		"CHECKOUT feature=cad user=u host=" + strings.Repeat("h", 256),
		"CHECKOUT feature=cad user=u host=h vendor=\"a b\"",
		"CHECKOUT feature=cad user=u host=h display=\"a\tb\"",
		"CHECKOUT feature=cad user=\"bidi\u202e\" host=h",
		"HEARTBEAT lease=a/b",
		"CHECKIN lease=" + strings.Repeat("l", 65),
		"CANCEL ticket=t/1",
		"STATUS feature=a*",
	} {
		want(t, c.call(line+" id=r"), "ERR", "code", "bad-request", "id", "r")
	}
	want(t, c.call("CHECKOUT feature=cad user=\"José 山田\" host="+strings.Repeat("h", 255)), "GRANTED")
}
