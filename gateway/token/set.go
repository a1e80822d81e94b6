package token

import (
	"fmt"
	"time"
)

// Entry is one token the gateway accepts.
type Entry struct {
	Name    string // the actor events and logs name
	Scope   Scope
	Digest  Digest
	Expires time.Time // zero: never
}

// Set is the tokens a gateway accepts. It is immutable once made, so it can
// be read from any goroutine and replaced whole on reload.
type Set struct {
	byDigest map[Digest]Entry
}

// NewSet makes a set of entries; two entries with the same digest are an
// error, since they would make the actor ambiguous.
func NewSet(entries ...Entry) (*Set, error) {
	s := &Set{byDigest: make(map[Digest]Entry, len(entries))}
	for _, e := range entries {
		if first, dup := s.byDigest[e.Digest]; dup {
			return nil, fmt.Errorf("tokens %q and %q have the same SHA-256", first.Name, e.Name)
		}
		s.byDigest[e.Digest] = e
	}
	return s, nil
}

// Len is the number of tokens in the set.
func (s *Set) Len() int { return len(s.byDigest) }

// Authenticate finds the entry of the token text tok. Its errors wrap
// ErrMalformed, ErrUnknown or ErrExpired.
//
// The lookup is by digest: comparing digests rather than secrets leaks
// nothing useful about a secret through timing.
func (s *Set) Authenticate(tok string, now time.Time) (Entry, error) {
	tok, err := Parse(tok)
	if err != nil {
		return Entry{}, err
	}
	return s.Lookup(Hash(tok), now)
}

// Lookup finds the entry of a token's digest, with Authenticate's errors
// but ErrMalformed. A dashboard session keeps only the digest of the token
// it was opened with and looks it up on every request, so a reload that
// drops, rescopes or expires that token ends the session too.
func (s *Set) Lookup(d Digest, now time.Time) (Entry, error) {
	e, ok := s.byDigest[d]
	if !ok {
		return Entry{}, ErrUnknown
	}
	if !e.Expires.IsZero() && !now.Before(e.Expires) {
		return Entry{}, fmt.Errorf("%w: %q expired at %s", ErrExpired, e.Name, e.Expires.UTC().Format(time.RFC3339))
	}
	return e, nil
}
