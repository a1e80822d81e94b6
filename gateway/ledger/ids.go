package ledger

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	mrand "math/rand/v2"
	"sync"
)

// idEncoding is lower-case base32 without padding: ids are URL- and
// protocol-token-safe and case-insensitive to read aloud.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewIDSource returns a generator of lease and ticket ids: 120 bits from a
// ChaCha8 stream seeded from crypto/rand, so ids are unguessable (the
// protocol asks for at least 96 random bits) without a system call per id.
func NewIDSource() func() string {
	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		panic("ledger: no entropy: " + err.Error())
	}
	src := mrand.NewChaCha8(seed)
	var mu sync.Mutex
	return func() string {
		var b [15]byte
		mu.Lock()
		binary.LittleEndian.PutUint64(b[:8], src.Uint64())
		binary.LittleEndian.PutUint64(b[7:], src.Uint64())
		mu.Unlock()
		var out [24]byte // 15 bytes in base32: one allocation, the string
		idEncoding.Encode(out[:], b[:])
		return string(out[:])
	}
}
