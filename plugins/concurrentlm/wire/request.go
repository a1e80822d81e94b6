package wire

import (
	"strings"
	"unicode/utf8"
)

// MaxLine is the longest line, in bytes without its terminator, that the
// protocol allows.
const MaxLine = 4096

// Verb is a request verb.
type Verb uint8

// The request verbs. VerbNone is the zero value, never a parsed verb.
const (
	VerbNone Verb = iota
	Hello
	Checkout
	Heartbeat
	Checkin
	Cancel
	Status
	Ping
	Quit
	numVerbs
)

var verbNames = [numVerbs]string{"", "HELLO", "CHECKOUT", "HEARTBEAT", "CHECKIN", "CANCEL", "STATUS", "PING", "QUIT"}

// String returns the canonical (upper-case) form of v.
func (v Verb) String() string {
	if v < numVerbs {
		return verbNames[v]
	}
	return ""
}

// lookupVerb matches a verb token case-insensitively without allocating.
func lookupVerb(tok string) Verb {
	for v := Hello; v < numVerbs; v++ {
		if len(tok) == len(verbNames[v]) && strings.EqualFold(tok, verbNames[v]) {
			return v
		}
	}
	return VerbNone
}

// Key is a request key the protocol knows. Keys a request carries that are
// not listed here are checked for syntax and duplicates, then ignored.
type Key uint8

// The known request keys, in the order AppendRequest writes them.
const (
	KeyFeature Key = iota
	KeyUser
	KeyHost
	KeyVendor
	KeyVersion
	KeyCount
	KeyDisplay
	KeyPID
	KeyWait
	KeyBind
	KeyNonce
	KeyRequest // licensegw's extension: the client's key of a CHECKOUT, the same when it asks again
	KeyLease
	KeyTicket
	KeyClient
	KeyProto
	KeyPad
	KeyID
	numKeys
)

var keyNames = [numKeys]string{
	"feature", "user", "host", "vendor", "version", "count", "display", "pid",
	"wait", "bind", "nonce", "request", "lease", "ticket", "client", "proto", "pad", "id",
}

// String returns the key as it appears on the wire.
func (k Key) String() string {
	if k < numKeys {
		return keyNames[k]
	}
	return ""
}

func lookupKey(s string) (Key, bool) {
	switch s {
	case "feature":
		return KeyFeature, true
	case "user":
		return KeyUser, true
	case "host":
		return KeyHost, true
	case "vendor":
		return KeyVendor, true
	case "version":
		return KeyVersion, true
	case "count":
		return KeyCount, true
	case "display":
		return KeyDisplay, true
	case "pid":
		return KeyPID, true
	case "wait":
		return KeyWait, true
	case "bind":
		return KeyBind, true
	case "nonce":
		return KeyNonce, true
	case "request":
		return KeyRequest, true
	case "lease":
		return KeyLease, true
	case "ticket":
		return KeyTicket, true
	case "client":
		return KeyClient, true
	case "proto":
		return KeyProto, true
	case "pad":
		return KeyPad, true
	case "id":
		return KeyID, true
	}
	return 0, false
}

// Request is a parsed request line. Its values are substrings of the line
// given to ParseLine (or fresh strings where a quoted value had escapes),
// so a Request is cheap to fill and to reuse.
type Request struct {
	Verb Verb
	vals [numKeys]string
	set  uint32
}

// Get returns the value of k and whether the request carried it.
func (r *Request) Get(k Key) (string, bool) {
	if k >= numKeys || r.set&(1<<k) == 0 {
		return "", false
	}
	return r.vals[k], true
}

// Value returns the value of k, or "" when the request did not carry it.
func (r *Request) Value(k Key) string { v, _ := r.Get(k); return v }

// Has reports whether the request carried k.
func (r *Request) Has(k Key) bool { return k < numKeys && r.set&(1<<k) != 0 }

// ID returns the request's id=, or "".
func (r *Request) ID() string { return r.Value(KeyID) }

// Set sets k to v (for building requests to send).
func (r *Request) Set(k Key, v string) {
	if k < numKeys {
		r.vals[k] = v
		r.set |= 1 << k
	}
}

// Del removes k.
func (r *Request) Del(k Key) {
	if k < numKeys {
		r.vals[k] = ""
		r.set &^= 1 << k
	}
}

// maxInlineUnknown unknown keys are checked for duplicates without
// allocating; a line with more falls back to a map.
const maxInlineUnknown = 16

// ParseLine parses one request line into r (which it resets first). A
// trailing LF, CRLF or CR is ignored. It returns ErrEmptyLine for a line of
// nothing but spaces, and otherwise an *Error whose Code is the ERR code to
// answer with. On an error r.ID() is the request's id when it was read
// before the fault, so the ERR can still carry it.
func ParseLine(line string, r *Request) error {
	*r = Request{}
	line = TrimEOL(line)
	if len(line) > MaxLine {
		return ErrLineTooLong
	}
	if strings.IndexByte(line, '\n') >= 0 {
		return errorf(CodeBadRequest, "LF inside a line")
	}
	if !utf8.ValidString(line) {
		return errorf(CodeBadRequest, "line is not UTF-8")
	}
	i := skipSpaces(line, 0)
	if i == len(line) {
		return ErrEmptyLine
	}
	j := i
	for j < len(line) && line[j] != ' ' {
		j++
	}
	verbTok := line[i:j]

	var unknown [maxInlineUnknown]string
	nUnknown := 0
	var more map[string]struct{}
	i = j
	for {
		i = skipSpaces(line, i)
		if i == len(line) {
			break
		}
		key, val, next, bare, err := scanPair(line, i)
		if err != nil {
			return err
		}
		if bare {
			return errorf(CodeBadRequest, "expected key=value")
		}
		i = next
		if k, ok := lookupKey(key); ok {
			if r.set&(1<<k) != 0 {
				return errorf(CodeBadRequest, "duplicate key "+key)
			}
			if k == KeyID && !IsToken(val) {
				return errorf(CodeBadRequest, "id must be 1 to 64 of [A-Za-z0-9._-]")
			}
			r.vals[k] = val
			r.set |= 1 << k
			continue
		}
		dup := false
		for _, u := range unknown[:nUnknown] {
			if u == key {
				dup = true
				break
			}
		}
		if !dup && more != nil {
			_, dup = more[key]
		}
		if dup {
			return errorf(CodeBadRequest, "duplicate key "+key)
		}
		if nUnknown < maxInlineUnknown {
			unknown[nUnknown] = key
			nUnknown++
		} else {
			if more == nil {
				more = make(map[string]struct{})
			}
			more[key] = struct{}{}
		}
	}
	r.Verb = lookupVerb(verbTok)
	if r.Verb == VerbNone {
		return &Error{Code: CodeUnknownVerb, Message: "unknown verb"}
	}
	return nil
}

// TrimEOL removes one trailing LF, CRLF or CR.
func TrimEOL(line string) string {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}

func skipSpaces(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// scanPair reads the token at s[i:] (s[i] is not a space): key=value, or a
// bare word (no '=' at all), which it reports with bare set and the word in
// val. next is the index just after the token.
func scanPair(s string, i int) (key, val string, next int, bare bool, err error) {
	j := i
	for j < len(s) && isKeyByte(s[j]) {
		j++
	}
	if j == len(s) || s[j] == ' ' {
		// A word with no '=': only the message parser accepts these.
		if j == i {
			return "", "", 0, false, errorf(CodeBadRequest, "bad token")
		}
		return "", s[i:j], j, true, nil
	}
	if s[j] != '=' || j == i {
		// Not a key: either a bad key byte or a word with other bytes.
		k := j
		for k < len(s) && s[k] != ' ' && s[k] != '=' {
			k++
		}
		if k == len(s) || s[k] == ' ' {
			if strings.IndexByte(s[i:k], '"') < 0 {
				return "", s[i:k], k, true, nil
			}
		}
		return "", "", 0, false, errorf(CodeBadRequest, "keys are [a-z0-9_-]+")
	}
	key = s[i:j]
	j++ // '='
	if j < len(s) && s[j] == '"' {
		val, next, err = scanQuoted(s, j)
		return key, val, next, false, err
	}
	k := j
	for k < len(s) && s[k] != ' ' {
		if s[k] == '"' || s[k] == '=' {
			return "", "", 0, false, errorf(CodeBadRequest, "bare value of "+key+" holds '\"' or '='; quote it")
		}
		k++
	}
	return key, s[j:k], k, false, nil
}

// scanQuoted reads the quoted string whose opening quote is s[i]. Without
// escapes the value is a substring of s; with them it is a new string.
func scanQuoted(s string, i int) (val string, next int, err error) {
	j := i + 1
	escapes := false
	for {
		if j >= len(s) {
			return "", 0, errorf(CodeBadRequest, "unterminated quoted value")
		}
		c := s[j]
		if c == '"' {
			break
		}
		if c == '\\' {
			if j+1 >= len(s) || (s[j+1] != '"' && s[j+1] != '\\') {
				return "", 0, errorf(CodeBadRequest, `only \" and \\ are escapes`)
			}
			escapes = true
			j += 2
			continue
		}
		j++
	}
	end := j + 1
	if end < len(s) && s[end] != ' ' {
		return "", 0, errorf(CodeBadRequest, "a space must follow a quoted value")
	}
	raw := s[i+1 : j]
	if !escapes {
		return raw, end, nil
	}
	var b strings.Builder
	b.Grow(len(raw))
	for k := 0; k < len(raw); k++ {
		if raw[k] == '\\' {
			k++
		}
		b.WriteByte(raw[k])
	}
	return b.String(), end, nil
}

// IsNonce reports whether s is a valid nonce=: 1 to 64 characters of
// [A-Za-z0-9_-] (the id= alphabet without '.').
func IsNonce(s string) bool { return IsToken(s) && !strings.Contains(s, ".") }

// IsToken reports whether s is a valid id= token: 1 to 64 characters of
// [A-Za-z0-9._-].
func IsToken(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ParseNumber parses a number as the grammar spells one: ASCII digits, no
// sign, no leading zero (except "0" itself), at most max. It reports false
// for anything else, so "+1", "0001", "1e3" and " 1" are all refused.
func ParseNumber(s string, max uint64) (uint64, bool) {
	if len(s) == 0 || len(s) > 20 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > max/10 || max-n*10 < d {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}
