package relay

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
)

// Strategy says which free licence file a claim gets, as keygen-relay's
// --strategy does.
type Strategy string

// The strategies.
const (
	StrategyFIFO Strategy = "fifo" // the first free file in file-name order
	StrategyLIFO Strategy = "lifo" // the last free file
	StrategyRand Strategy = "rand" // any free file, uniformly
)

// ParseStrategy reads a strategy name.
func ParseStrategy(s string) (Strategy, error) {
	switch st := Strategy(s); st {
	case StrategyFIFO, StrategyLIFO, StrategyRand:
		return st, nil
	}
	return "", fmt.Errorf("strategy %q: want fifo, lifo or rand", s)
}

// freeSet is a set of slot numbers 0..n-1 as a bitmap: taking the lowest,
// the highest or a random member costs n/64 word operations, which for the
// thousands of files a pool may hold is far below an HTTP round trip.
type freeSet struct {
	words []uint64
	n     int // members
}

func newFreeSet(size int) *freeSet {
	return &freeSet{words: make([]uint64, (size+63)/64)}
}

// grow makes room for members up to size-1.
func (s *freeSet) grow(size int) {
	for len(s.words)*64 < size {
		s.words = append(s.words, 0)
	}
}

func (s *freeSet) add(i int) {
	w, b := i/64, uint64(1)<<(i%64)
	if s.words[w]&b == 0 {
		s.words[w] |= b
		s.n++
	}
}

func (s *freeSet) remove(i int) bool {
	w, b := i/64, uint64(1)<<(i%64)
	if s.words[w]&b == 0 {
		return false
	}
	s.words[w] &^= b
	s.n--
	return true
}

func (s *freeSet) has(i int) bool { return s.words[i/64]&(uint64(1)<<(i%64)) != 0 }

// take removes and returns a member chosen by st, or -1 when s is empty.
func (s *freeSet) take(st Strategy, rng *rand.Rand) int {
	if s.n == 0 {
		return -1
	}
	i := -1
	switch st {
	case StrategyLIFO:
		for w := len(s.words) - 1; w >= 0; w-- {
			if s.words[w] != 0 {
				i = w*64 + 63 - bits.LeadingZeros64(s.words[w])
				break
			}
		}
	case StrategyRand:
		k := rng.IntN(s.n)
		for w, word := range s.words {
			c := bits.OnesCount64(word)
			if k >= c {
				k -= c
				continue
			}
			for ; k > 0; k-- {
				word &= word - 1 // drop the lowest member
			}
			i = w*64 + bits.TrailingZeros64(word)
			break
		}
	default:
		for w, word := range s.words {
			if word != 0 {
				i = w*64 + bits.TrailingZeros64(word)
				break
			}
		}
	}
	s.remove(i)
	return i
}
