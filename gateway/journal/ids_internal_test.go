package journal

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/oklog/ulid/v2"
)

// TestIDsShareTheCommit checks the ids Append hands out from a commit's own
// memory (idInto): each is a valid id, later draws leave earlier ids as
// they were, they are distinct and sorted, and drawing one allocates
// nothing.
func TestIDsShareTheCommit(t *testing.T) {
	j := &Journal{entropy: ulid.Monotonic(rand.Reader, 0)}
	now := time.Now()
	one := &Commit{}
	one.events = one.one[:]
	three := &Commit{events: make([]events.Event, 3)}

	var ids []string
	for _, c := range []*Commit{one, three} {
		b := c.idBytes()
		if len(b) != len(c.events)*ulid.EncodedSize {
			t.Fatalf("idBytes: %d bytes for %d events", len(b), len(c.events))
		}
		for i := range c.events {
			ids = append(ids, j.idInto(now, b[i*ulid.EncodedSize:(i+1)*ulid.EncodedSize]))
		}
	}
	want := append([]string(nil), ids...) // copies of the strings' headers only
	snapshot := make([]string, len(ids))
	for i, id := range ids {
		snapshot[i] = string([]byte(id)) // the text, in memory of its own
	}

	// More draws, into fresh commits: nothing drawn before changes.
	for range 100 {
		c := &Commit{}
		c.events = c.one[:]
		_ = j.idInto(now, c.idBytes())
	}
	for i, id := range want {
		if id != snapshot[i] {
			t.Errorf("id %d changed from %s to %s", i, snapshot[i], id)
		}
		if _, err := ulid.ParseStrict(id); err != nil {
			t.Errorf("id %d %q: %v", i, id, err)
		}
		if i > 0 && !(want[i-1] < id) {
			t.Errorf("ids out of order: %s then %s", want[i-1], id)
		}
	}

	c := &Commit{}
	c.events = c.one[:]
	// Counting only: the result is dropped, so writing the same bytes
	// again breaks no string.
	if n := testing.AllocsPerRun(100, func() { _ = j.idInto(now, c.idBytes()) }); n != 0 {
		t.Errorf("idInto: %.1f allocations per id, want 0", n)
	}
}
