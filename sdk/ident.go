package sdk

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Identifier rules. Every string a plugin passes to Seats is checked against
// them before it leaves the plugin, and the gateway checks them again when a
// request arrives, so a client's input can never make a journal event larger
// than MaxEventBytes, a NATS subject longer than NATS allows, or a subject
// token that is not one token. A plugin calls the same checks in its wire
// decoder (CheckIdent, CheckoutRequest.Validate) to answer the protocol's
// bad-request before it asks the gateway anything.
//
// The rules, also tabled in docs/plugins.md:
//
//	identifier   max bytes  characters
//	vendor       64         name: A-Z a-z 0-9 _ . -   ("" = any vendor)
//	feature      64         name (required in a checkout)
//	version      64         name ("" = any version)
//	user         128        text
//	host         255        text
//	display      128        text
//	project      128        text
//	addr         64         token: printable ASCII, no space
//	nonce        64         name
//	lease        64         name
//	ticket       64         name
//	request key  160        token
//
// text is valid UTF-8 without control or invisible formatting characters
// (Unicode categories Cc, Cf, Zl and Zp: no tab, CR, LF, DEL, C1 controls,
// zero-width or bidi marks); ordinary spaces are allowed. Names are exactly
// what the gateway's configuration accepts for feature and vendor names, so
// a request naming something outside them names nothing that can exist. In
// a NATS subject the gateway turns '.' (and any byte outside A-Z a-z 0-9 _ -)
// into '_' (gateway/events.Token), so a name is always exactly one subject
// token, never a wildcard.

// Ident is a kind of identifier a request carries.
type Ident int

// The identifiers.
const (
	IdentVendor Ident = iota + 1
	IdentFeature
	IdentVersion
	IdentUser
	IdentHost
	IdentDisplay
	IdentProject
	IdentAddr
	IdentNonce
	IdentLease
	IdentTicket
	IdentRequestKey
)

// MaxEventBytes bounds the JSON of one journal event however its
// identifiers are chosen within the rules: every identifier at its maximum,
// every text character one that JSON escapes the longest way (six bytes per
// input byte), plus the fixed fields, stays under it.
const MaxEventBytes = 8 << 10

// charset is what an identifier may be made of.
type charset int

const (
	nameChars  charset = iota + 1 // A-Z a-z 0-9 _ . -
	tokenChars                    // printable ASCII except space
	textChars                     // UTF-8 without Cc, Cf, Zl, Zp
)

var identRules = [...]struct {
	name  string
	max   int
	chars charset
}{
	IdentVendor:     {"vendor", 64, nameChars},
	IdentFeature:    {"feature", 64, nameChars},
	IdentVersion:    {"version", 64, nameChars},
	IdentUser:       {"user", 128, textChars},
	IdentHost:       {"host", 255, textChars},
	IdentDisplay:    {"display", 128, textChars},
	IdentProject:    {"project", 128, textChars},
	IdentAddr:       {"addr", 64, tokenChars},
	IdentNonce:      {"nonce", 64, nameChars},
	IdentLease:      {"lease", 64, nameChars},
	IdentTicket:     {"ticket", 64, nameChars},
	IdentRequestKey: {"request key", 160, tokenChars},
}

// Idents lists every identifier, in the order of the table above.
func Idents() []Ident {
	out := make([]Ident, 0, len(identRules)-1)
	for k := IdentVendor; int(k) < len(identRules); k++ {
		out = append(out, k)
	}
	return out
}

func (k Ident) valid() bool { return k >= IdentVendor && int(k) < len(identRules) }

// String is the identifier's name, as error messages and docs use it.
func (k Ident) String() string {
	if !k.valid() {
		return "Ident(" + strconv.Itoa(int(k)) + ")"
	}
	return identRules[k].name
}

// MaxLen is the identifier's maximum length in bytes.
func (k Ident) MaxLen() int {
	if !k.valid() {
		return 0
	}
	return identRules[k].max
}

// IsText reports whether the identifier is free text (UTF-8, spaces
// allowed) rather than a name or token of ASCII characters.
func (k Ident) IsText() bool { return k.valid() && identRules[k].chars == textChars }

// ErrInvalid is what every identifier-rule violation wraps: a plugin
// answers it with its protocol's bad-request. Use errors.Is.
var ErrInvalid = errors.New("invalid request")

// InvalidError says which identifier broke which rule.
type InvalidError struct {
	Ident  Ident
	Reason string // e.g. "is not valid UTF-8", "is longer than 64 bytes"
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("%v: %s %s", ErrInvalid, e.Ident, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// CheckIdent checks s against the rules of k; the empty string passes
// (whether a field is required is the request's business). The error is
// an *InvalidError.
func CheckIdent(k Ident, s string) error {
	if !k.valid() {
		return &InvalidError{Ident: k, Reason: "is not a known identifier"}
	}
	r := identRules[k]
	if len(s) > r.max {
		return &InvalidError{Ident: k, Reason: fmt.Sprintf("is longer than %d bytes", r.max)}
	}
	switch r.chars {
	case nameChars:
		for i := 0; i < len(s); i++ {
			if !nameByte(s[i]) {
				return &InvalidError{Ident: k, Reason: "may hold only letters, digits, '_', '.' and '-'"}
			}
		}
	case tokenChars:
		for i := 0; i < len(s); i++ {
			if s[i] <= ' ' || s[i] >= 0x7f {
				return &InvalidError{Ident: k, Reason: "may hold only printable ASCII without spaces"}
			}
		}
	case textChars:
		return checkText(k, s)
	}
	return nil
}

func checkText(k Ident, s string) error {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < ' ' || c == 0x7f {
				return &InvalidError{Ident: k, Reason: "contains a control character"}
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return &InvalidError{Ident: k, Reason: "is not valid UTF-8"}
		}
		if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			return &InvalidError{Ident: k, Reason: fmt.Sprintf("contains the control or formatting character %U", r)}
		}
		i += n
	}
	return nil
}

// nameByte reports whether c may appear in a name.
func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// checkRequired is CheckIdent that also refuses the empty string.
func checkRequired(k Ident, s string) error {
	if s == "" {
		return &InvalidError{Ident: k, Reason: "is missing"}
	}
	return CheckIdent(k, s)
}

// Validate checks every identifier of the client.
func (c Client) Validate() error {
	for _, f := range [...]struct {
		k Ident
		s string
	}{{IdentUser, c.User}, {IdentHost, c.Host}, {IdentDisplay, c.Display}, {IdentProject, c.Project}, {IdentAddr, c.Addr}} {
		if err := CheckIdent(f.k, f.s); err != nil {
			return err
		}
	}
	return nil
}

// maxCount bounds the seats one checkout may ask for. The count travels
// as 64 bits (CheckoutRequest.count) and a count beyond a feature's seats
// is the gateway's denial (reason count, with the real counts), not a
// malformed request: only a negative count is invalid.
const maxCount = math.MaxInt64

// Validate checks the request against the identifier rules (Feature is
// required) and its numbers for sense (Count, Wait and Borrow not
// negative). Seats.Checkout calls it; a plugin may call it first to answer
// its protocol's bad-request itself.
func (r CheckoutRequest) Validate() error {
	if err := CheckIdent(IdentVendor, r.Vendor); err != nil {
		return err
	}
	if err := checkRequired(IdentFeature, r.Feature); err != nil {
		return err
	}
	if err := CheckIdent(IdentVersion, r.Version); err != nil {
		return err
	}
	if err := r.Client.Validate(); err != nil {
		return err
	}
	if err := CheckIdent(IdentNonce, r.Nonce); err != nil {
		return err
	}
	if err := CheckIdent(IdentRequestKey, r.RequestKey); err != nil {
		return err
	}
	switch {
	case r.Count < 0 || r.Count > maxCount:
		return fmt.Errorf("%w: count %d is out of range", ErrInvalid, r.Count)
	case r.Wait < 0:
		return fmt.Errorf("%w: negative wait", ErrInvalid)
	case r.Borrow < 0:
		return fmt.Errorf("%w: negative borrow period", ErrInvalid)
	}
	return nil
}

// Validate checks the query's vendor and feature (either may be empty).
func (q StatusQuery) Validate() error {
	if err := CheckIdent(IdentVendor, q.Vendor); err != nil {
		return err
	}
	return CheckIdent(IdentFeature, q.Feature)
}
