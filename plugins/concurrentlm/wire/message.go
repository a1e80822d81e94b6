package wire

import (
	"strconv"
	"strings"
	"time"
)

// Pair is one key=value of a Message.
type Pair struct {
	Key, Value string
}

// Message is any parsed line, as a client sees responses: the first word
// (upper-cased), an optional bare second word (EVENT's "granted" or
// "denied"), and the pairs in order.
type Message struct {
	Word  string
	Sub   string
	Pairs []Pair
}

// Lookup returns the value of key and whether the line carried it.
func (m Message) Lookup(key string) (string, bool) {
	for _, p := range m.Pairs {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// Get returns the value of key, or "".
func (m Message) Get(key string) string { v, _ := m.Lookup(key); return v }

// Int returns key as an integer; ok is false when it is missing or bad.
func (m Message) Int(key string) (n int, ok bool) {
	v, found := m.Lookup(key)
	if !found {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// Time returns key as a protocol time.
func (m Message) Time(key string) (time.Time, bool) {
	v, found := m.Lookup(key)
	if !found {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v)
	return t, err == nil
}

// ParseMessage parses any CLM/1 line. It is lenient where the request
// parser is strict (one bare word may follow the first; duplicate keys are
// kept) because a client should accept what a newer server sends.
func ParseMessage(line string) (Message, error) {
	line = TrimEOL(line)
	var m Message
	i := skipSpaces(line, 0)
	if i == len(line) {
		return m, ErrEmptyLine
	}
	j := i
	for j < len(line) && line[j] != ' ' {
		j++
	}
	m.Word = strings.ToUpper(line[i:j])
	i = j
	first := true
	for {
		i = skipSpaces(line, i)
		if i == len(line) {
			return m, nil
		}
		key, val, next, bare, err := scanPair(line, i)
		if err != nil {
			return m, err
		}
		i = next
		if bare {
			if !first || len(m.Pairs) > 0 {
				return m, errorf(CodeBadRequest, "expected key=value")
			}
			m.Sub = val
		} else {
			m.Pairs = append(m.Pairs, Pair{Key: key, Value: val})
		}
		first = false
	}
}
