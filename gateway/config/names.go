package config

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// nameRE is what feature, vendor, group, plugin and gateway names may be
// made of: safe as a bare token in every wire protocol and in NATS subjects.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// versionRE is a feature version: alphanumeric components separated by dots.
var versionRE = regexp.MustCompile(`^[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$`)

// checkName returns an error completing "The <what> ..." when s is not a
// valid name.
func checkName(s string) error {
	if !nameRE.MatchString(s) {
		return fmt.Errorf("%q is not valid: a name is 1 to 64 letters, digits, '_', '.' or '-'", s)
	}
	return nil
}

// checkAddr checks a listen address: host:port with a numeric port; the host
// may be empty (all interfaces).
func checkAddr(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not a host:port address", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has no valid port number (0 to 65535)", s)
	}
	return nil
}

// checkInternet checks an IPv4 pattern such as 10.1.*.*: four components,
// each a number from 0 to 255 or '*'.
func checkInternet(s string) error {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return fmt.Errorf("%q is not an IPv4 pattern such as 10.1.*.*", s)
	}
	for _, p := range parts {
		if p == "*" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 255 || p != strconv.Itoa(n) {
			return fmt.Errorf("%q is not an IPv4 pattern such as 10.1.*.*", s)
		}
	}
	return nil
}

// checkSubjectPrefix checks a NATS subject prefix: dot-separated tokens
// without wildcards or white space.
func checkSubjectPrefix(s string) error {
	for tok := range strings.SplitSeq(s, ".") {
		if tok == "" || strings.ContainsAny(tok, "*> \t\r\n") {
			return fmt.Errorf("%q is not a NATS subject prefix: dot-separated tokens without spaces, '*' or '>'", s)
		}
	}
	return nil
}

// checkStreamName checks a JetStream stream name.
func checkStreamName(s string) error {
	if s == "" || len(s) > 255 || strings.ContainsAny(s, ".*> \t\r\n/\\") {
		return fmt.Errorf("%q is not a JetStream stream name: no spaces, '.', '*', '>', '/' or '\\'", s)
	}
	return nil
}
