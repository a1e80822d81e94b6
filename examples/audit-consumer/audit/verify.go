package audit

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/journal"
)

// chainCheck verifies the journal's hash chain as events arrive (see
// docs/events.md, "hash chain and seals"): an event that breaks it stops the
// consumer before it is written, so the file never holds an event the
// gateway did not journal. It checks only a copy of the whole journal: a
// narrower subject leaves out events the chain runs through.
type chainCheck struct {
	v       *journal.Verifier
	lastSeq uint64 // the last stream sequence verified
	log     *slog.Logger
	seals   int
}

// newChainCheck returns nil (no checking) when subject is not the whole
// journal. last is the file's last line, the event the chain continues
// from ("" for a new file).
func newChainCheck(subject string, key ed25519.PublicKey, last []byte, log *slog.Logger) (*chainCheck, error) {
	if !strings.HasSuffix(subject, ".events.>") {
		log.Info("not verifying the hash chain: the subject is not the whole journal", "subject", subject)
		return nil, nil
	}
	c := &chainCheck{v: journal.NewVerifier(key), log: log}
	if len(last) > 0 {
		if err := c.v.Resume(last); err != nil {
			return nil, fmt.Errorf("audit: the file's last event: %w", err)
		}
	}
	return c, nil
}

// check verifies the message at seq; one delivered again (seq already
// verified) passes.
func (c *chainCheck) check(seq uint64, data []byte) error {
	if c == nil || seq <= c.lastSeq {
		return nil
	}
	var ev events.Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return fmt.Errorf("audit: event at stream sequence %d is not JSON: %w", seq, err)
	}
	if _, err := c.v.Feed(seq, data, &ev); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	c.lastSeq = seq
	if ev.Kind == events.SealKind {
		c.seals++
		c.log.Debug("journal sealed", "seq", seq, "count", ev.Count)
	}
	return nil
}

// summary logs what was verified.
func (c *chainCheck) summary() {
	if c == nil {
		return
	}
	seal := uint64(0)
	if s := c.v.LastSeal; s != nil {
		seal = s.Seq
	}
	c.log.Info("hash chain verified", "events", c.v.Counted, "seals", c.seals, "last_seal_seq", seal,
		"unsealed", c.v.Unsealed, "signatures_checked", c.v.Signed)
}
