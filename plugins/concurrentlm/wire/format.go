package wire

import (
	"strconv"
	"time"
)

// TimeFormat is the protocol's time format: RFC 3339 UTC, whole seconds.
const TimeFormat = "2006-01-02T15:04:05Z07:00"

// NeedsQuote reports whether v cannot be sent as a bare token: it is empty
// or holds a space, control byte, '"' or '='.
func NeedsQuote(v string) bool {
	if v == "" {
		return true
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c == '"' || c == '=' || c == 0x7f {
			return true
		}
	}
	return false
}

// AppendPair appends " key=value" to dst, quoting value when it needs it.
// An LF in value, which no line can hold, is sent as a space.
func AppendPair(dst []byte, key, value string) []byte {
	dst = append(dst, ' ')
	dst = append(dst, key...)
	dst = append(dst, '=')
	if !NeedsQuote(value) {
		return append(dst, value...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, ' ')
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// AppendInt appends " key=n".
func AppendInt(dst []byte, key string, n int64) []byte {
	dst = append(dst, ' ')
	dst = append(dst, key...)
	dst = append(dst, '=')
	return strconv.AppendInt(dst, n, 10)
}

// AppendTime appends " key=<RFC 3339 UTC, whole seconds>".
func AppendTime(dst []byte, key string, t time.Time) []byte {
	dst = append(dst, ' ')
	dst = append(dst, key...)
	dst = append(dst, '=')
	return t.UTC().Truncate(time.Second).AppendFormat(dst, TimeFormat)
}

// AppendSeconds appends " key=<whole seconds of d>".
func AppendSeconds(dst []byte, key string, d time.Duration) []byte {
	return AppendInt(dst, key, int64(d/time.Second))
}

// AppendRequest appends r as a request line (without LF): the canonical
// verb, then r's keys in Key order.
func AppendRequest(dst []byte, r *Request) []byte {
	dst = append(dst, r.Verb.String()...)
	for k := Key(0); k < numKeys; k++ {
		if r.set&(1<<k) != 0 {
			dst = AppendPair(dst, keyNames[k], r.vals[k])
		}
	}
	return dst
}

// AppendError appends an ERR line (without LF), with id= when id is set.
func AppendError(dst []byte, code, message, id string) []byte {
	dst = append(dst, "ERR code="...)
	dst = append(dst, code...)
	if message != "" {
		dst = AppendPair(dst, "message", message)
	}
	if id != "" {
		dst = AppendPair(dst, "id", id)
	}
	return dst
}
