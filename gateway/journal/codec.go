package journal

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/licensegw/licensegw/gateway/events"
)

// The journal encodes and decodes every event it publishes and replays, and
// encoding/json's reflection was the largest cost of both. appendEvent and
// decodeEvent are fast paths for the common case that give exactly the
// result of encoding/json (checked by the fuzz tests); anything out of the
// ordinary falls back to encoding/json.

// encodeEvent returns ev's JSON payload: the bytes ev.MarshalJSON returns.
func encodeEvent(ev *events.Event) ([]byte, error) {
	return encodeEventTo(make([]byte, 0, 512), ev, nil)
}

// encodeEventTo is encodeEvent writing into buf's space (the publisher
// reuses the buffers of acknowledged messages). prev, when not nil, is the
// hex of the predecessor's hash, written as ev.Prev would be (which must
// then be empty): the publisher does not make a string of it.
func encodeEventTo(buf []byte, ev *events.Event, prev []byte) ([]byte, error) {
	if b, ok := appendEvent(buf[:0], ev, prev); ok {
		return b, nil
	}
	if prev != nil {
		e := *ev
		e.Prev = string(prev)
		return e.MarshalJSON()
	}
	return ev.MarshalJSON()
}

// appendEvent appends ev's JSON to b, field by field in the order
// ev.MarshalJSON writes them; prev, if not nil, stands for ev.Prev. It
// reports false, leaving the encoding to MarshalJSON, when a string would
// need escaping.
func appendEvent(b []byte, ev *events.Event, prev []byte) ([]byte, bool) {
	ok := true
	str := func(key, v string, omitEmpty bool) {
		if omitEmpty && v == "" {
			return
		}
		if !plainString(v) {
			ok = false
			return
		}
		b = append(b, ',', '"')
		b = append(b, key...)
		b = append(b, '"', ':', '"')
		b = append(b, v...)
		b = append(b, '"')
	}
	num := func(key string, v int64) {
		b = append(b, ',', '"')
		b = append(b, key...)
		b = append(b, '"', ':')
		b = strconv.AppendInt(b, v, 10)
	}
	unum := func(key string, v uint64) {
		b = append(b, ',', '"')
		b = append(b, key...)
		b = append(b, '"', ':')
		b = strconv.AppendUint(b, v, 10)
	}
	tim := func(key string, t time.Time) {
		b = append(b, ',', '"')
		b = append(b, key...)
		b = append(b, '"', ':', '"')
		b = t.UTC().AppendFormat(b, events.TimeLayout)
		b = append(b, '"')
	}

	start := len(b)
	str("schema", ev.Schema, false)
	b[start] = '{' // the first field's comma opens the object
	str("id", ev.ID, false)
	str("kind", string(ev.Kind), false)
	str("gateway", ev.Gateway, true)
	str("vendor", ev.Vendor, false)
	str("feature", ev.Feature, false)
	str("version", ev.Version, false)
	str("lease", ev.Lease, true)
	str("ticket", ev.Ticket, true)
	if ev.Count != 0 {
		num("count", int64(ev.Count))
	}
	str("user", ev.User, true)
	str("host", ev.Host, true)
	str("display", ev.Display, true)
	str("protocol", ev.Protocol, true)
	str("plugin", ev.Plugin, true)
	str("client_addr", ev.Client, true)
	str("reason", ev.Reason, true)
	num("in_use", int64(ev.InUse))
	num("seats", int64(ev.Seats))
	num("queued", int64(ev.Queued))
	if ev.HeldMS != nil {
		num("held_ms", *ev.HeldMS)
	}
	str("project", ev.Project, true)
	if ev.Bound {
		b = append(b, `,"bound":true`...)
	}
	str("request", ev.Request, true)
	str("by", ev.By, true)
	if ev.Truncated {
		b = append(b, `,"truncated":true`...)
	}
	if ev.Term > 0 {
		unum("term", ev.Term)
	}
	str("node", ev.Node, true)
	str("conn_node", ev.ConnNode, true)
	if prev != nil {
		b = append(b, `,"prev":"`...)
		b = append(b, prev...)
		b = append(b, '"')
	} else {
		str("prev", ev.Prev, true)
	}
	str("head", ev.Head, true)
	str("sig", ev.Sig, true)
	tim("time", ev.Time)
	if ev.Expires != nil {
		tim("expires", *ev.Expires)
	}
	if ev.Term > 0 {
		unum("idx", ev.Idx)
	}
	b = append(b, '}')
	return b, ok
}

// plainString reports whether encoding/json writes s unchanged between
// quotes: valid UTF-8 with no control characters, no quote or backslash, none
// of the HTML characters it escapes and no U+2028/U+2029.
func plainString(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return false
		}
		i += size
	}
	return true
}

// decodeEvent decodes an event payload, with exactly the result of
// json.Unmarshal. names, if not nil, shares the strings that repeat from
// event to event (see interner).
func decodeEvent(data []byte, ev *events.Event, names interner) error {
	d := decoder{data: data, names: names}
	if d.event(ev) {
		return nil
	}
	*ev = events.Event{}
	return json.Unmarshal(data, ev)
}

// interner hands out one string per distinct value of the fields that repeat
// across events (schema, kind, gateway, pool, protocol, plugin, who), so a
// replay of many events allocates them once.
type interner map[string]string

// maxInterned bounds an interner; past it, strings are allocated as usual.
const maxInterned = 4096

func (in interner) get(b []byte) string {
	if s, ok := in[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	if len(in) < maxInterned {
		in[s] = s
	}
	return s
}

// decoder parses the JSON objects appendEvent writes (any key order, any
// whitespace). Its methods report false on anything else: unknown or escaped
// keys, escaped strings, nulls where encoding/json would keep a value,
// numbers that are not plain integers, syntax errors; decodeEvent then
// leaves the payload to encoding/json.
type decoder struct {
	data  []byte
	pos   int
	names interner // may be nil
}

func (d *decoder) event(ev *events.Event) bool {
	d.space()
	if !d.byte('{') {
		return false
	}
	d.space()
	if d.byte('}') {
		return d.end()
	}
	for {
		d.space()
		key, ok := d.rawString()
		if !ok {
			return false
		}
		d.space()
		if !d.byte(':') {
			return false
		}
		d.space()
		if !d.field(ev, key) {
			return false
		}
		d.space()
		if d.byte(',') {
			continue
		}
		if d.byte('}') {
			return d.end()
		}
		return false
	}
}

// field decodes the value of key into ev.
func (d *decoder) field(ev *events.Event, key []byte) bool {
	var s *string
	shared := true       // a value that repeats across events
	switch string(key) { // no allocation: the compiler switches on the bytes
	case "schema":
		s = &ev.Schema
	case "id":
		s, shared = &ev.ID, false
	case "kind":
		v, ok := d.str(true)
		ev.Kind = events.Kind(v)
		return ok
	case "gateway":
		s = &ev.Gateway
	case "vendor":
		s = &ev.Vendor
	case "feature":
		s = &ev.Feature
	case "version":
		s = &ev.Version
	case "lease":
		s, shared = &ev.Lease, false
	case "ticket":
		s, shared = &ev.Ticket, false
	case "user":
		s = &ev.User
	case "host":
		s = &ev.Host
	case "display":
		s = &ev.Display
	case "protocol":
		s = &ev.Protocol
	case "plugin":
		s = &ev.Plugin
	case "client_addr":
		s, shared = &ev.Client, false
	case "reason":
		s = &ev.Reason
	case "project":
		s = &ev.Project
	case "request":
		s, shared = &ev.Request, false
	case "by":
		s, shared = &ev.By, false
	case "bound":
		return d.boolean(&ev.Bound)
	case "truncated":
		return d.boolean(&ev.Truncated)
	case "term":
		return d.uintField(&ev.Term)
	case "idx":
		return d.uintField(&ev.Idx)
	case "node":
		s = &ev.Node
	case "conn_node":
		s = &ev.ConnNode
	case "prev":
		s, shared = &ev.Prev, false
	case "head":
		s, shared = &ev.Head, false
	case "sig":
		s, shared = &ev.Sig, false
	case "count":
		return d.intField(&ev.Count)
	case "in_use":
		return d.intField(&ev.InUse)
	case "seats":
		return d.intField(&ev.Seats)
	case "queued":
		return d.intField(&ev.Queued)
	case "held_ms":
		if d.null() {
			ev.HeldMS = nil
			return true
		}
		n, ok := d.int()
		ev.HeldMS = &n
		return ok
	case "time":
		return d.time(&ev.Time)
	case "expires":
		if d.null() {
			ev.Expires = nil
			return true
		}
		var t time.Time
		ev.Expires = &t
		return d.time(&t)
	default:
		return false
	}
	v, ok := d.str(shared)
	*s = v
	return ok
}

func (d *decoder) uintField(dst *uint64) bool {
	n, ok := d.int()
	if n < 0 {
		return false // encoding/json refuses it: let it say so
	}
	*dst = uint64(n)
	return ok
}

func (d *decoder) intField(dst *int) bool {
	n, ok := d.int()
	*dst = int(n)
	return ok
}

// str decodes a string value with no escapes; shared strings go through the
// interner.
func (d *decoder) str(shared bool) (string, bool) {
	raw, ok := d.rawString()
	if !ok || !utf8.Valid(raw) {
		return "", false
	}
	if shared && d.names != nil {
		return d.names.get(raw), true
	}
	return string(raw), true
}

// rawString returns the bytes between the quotes of a string with no
// escapes and no control characters.
func (d *decoder) rawString() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	start := d.pos
	for d.pos < len(d.data) {
		switch c := d.data[d.pos]; {
		case c == '"':
			d.pos++
			return d.data[start : d.pos-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
		d.pos++
	}
	return nil, false
}

// time decodes a quoted time the way encoding/json does: with
// time.Time.UnmarshalJSON on the quoted bytes.
func (d *decoder) time(t *time.Time) bool {
	start := d.pos
	if _, ok := d.rawString(); !ok {
		return false
	}
	return t.UnmarshalJSON(d.data[start:d.pos]) == nil
}

// int decodes an integer written without fraction or exponent, small enough
// never to overflow.
func (d *decoder) int() (int64, bool) {
	neg := d.byte('-')
	start := d.pos
	var n int64
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		n = n*10 + int64(d.data[d.pos]-'0')
		d.pos++
	}
	digits := d.pos - start
	if digits == 0 || digits > 18 || digits > 1 && d.data[start] == '0' {
		return 0, false
	}
	if d.pos < len(d.data) {
		if c := d.data[d.pos]; c == '.' || c == 'e' || c == 'E' {
			return 0, false
		}
	}
	if neg {
		n = -n
	}
	return n, true
}

func (d *decoder) boolean(dst *bool) bool {
	for _, lit := range [...]string{"true", "false"} {
		if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
			d.pos += len(lit)
			*dst = lit == "true"
			return true
		}
	}
	return false
}

func (d *decoder) null() bool {
	if len(d.data)-d.pos >= 4 && string(d.data[d.pos:d.pos+4]) == "null" {
		d.pos += 4
		return true
	}
	return false
}

func (d *decoder) byte(c byte) bool {
	if d.pos < len(d.data) && d.data[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

func (d *decoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// end reports whether only whitespace follows.
func (d *decoder) end() bool {
	d.space()
	return d.pos == len(d.data)
}
