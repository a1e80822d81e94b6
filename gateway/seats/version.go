package seats

import "strings"

// CompareVersions compares two dotted versions and returns -1, 0 or +1.
//
// Components are compared left to right: two numeric components compare as
// numbers (so "2.10" > "2.9", and leading zeros do not matter), anything else
// compares as strings, a numeric component sorts before a non-numeric one so
// that the order is total, and a missing component counts as "0" (so "1" ==
// "1.0"). This is the rule FlexLM applies to feature versions.
func CompareVersions(a, b string) int {
	for a != "" || b != "" {
		var ca, cb string
		ca, a = cutDot(a)
		cb, b = cutDot(b)
		if c := compareComponent(ca, cb); c != 0 {
			return c
		}
	}
	return 0
}

func cutDot(s string) (head, rest string) {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

func compareComponent(a, b string) int {
	if a == "" {
		a = "0"
	}
	if b == "" {
		b = "0"
	}
	na, nb := isDigits(a), isDigits(b)
	switch {
	case na && nb:
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(a) != len(b) { // no leading zeros left: the longer is larger
			if len(a) < len(b) {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	case na:
		return -1
	case nb:
		return 1
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validVersion reports whether v is a dotted version the configuration may
// name: non-empty components of letters, digits, '_', '-' and '+'. The empty
// string is allowed and means version 0.
func validVersion(v string) bool {
	if v == "" {
		return true
	}
	for _, c := range strings.Split(v, ".") {
		if c == "" {
			return false
		}
		for i := 0; i < len(c); i++ {
			b := c[i]
			if !(b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '_' || b == '-' || b == '+') {
				return false
			}
		}
	}
	return true
}
