package client

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// Environment variables naming the license servers, as Sentinel RMS
// clients read them.
const (
	// EnvForceHost names the servers to use and no others; it overrides
	// EnvHost.
	EnvForceHost = "LSFORCEHOST"
	// EnvHost names the servers to try, in order.
	EnvHost = "LSHOST"
)

// ErrBadServerList is wrapped by ParseServers errors.
var ErrBadServerList = errors.New("bad license server list")

// maxServers bounds a server list: a list is a handful of redundant
// servers, never a scan.
const maxServers = 64

// ParseServers splits a server list into its "host:port" addresses, in
// order. Entries are "host" (port DefaultPort), "host:port", "[v6]" or
// "[v6]:port", separated by ',' or by '~' (the separator of Sentinel RMS's
// LSHOST); blanks around entries are ignored. Sentinel's older ':'
// separator is not accepted: here ':' introduces a port. Host names are
// not resolved.
func ParseServers(list string) ([]string, error) {
	entries, err := splitServers(list)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.addr
	}
	return out, nil
}

// listed is a server list's entry: as written, and as "host:port".
type listed struct{ name, addr string }

func splitServers(list string) ([]listed, error) {
	var out []listed
	for entry := range strings.FieldsFuncSeq(list, func(r rune) bool { return r == ',' || r == '~' }) {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		addr, err := normalize(entry)
		if err != nil {
			return nil, err
		}
		if len(out) == maxServers {
			return nil, fmt.Errorf("%w: more than %d servers", ErrBadServerList, maxServers)
		}
		out = append(out, listed{entry, addr})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %q names no server", ErrBadServerList, list)
	}
	return out, nil
}

// normalize checks one entry and adds the default port.
func normalize(entry string) (string, error) {
	host, port, err := net.SplitHostPort(entry)
	if err != nil {
		// No port: "host", "[v6]" or a bare IPv6 address.
		host, port = strings.TrimSuffix(strings.TrimPrefix(entry, "["), "]"), DefaultPort
	}
	if host == "" || strings.ContainsAny(host, " \t[]/@") {
		return "", fmt.Errorf("%w: %q: want host or host:port", ErrBadServerList, entry)
	}
	if strings.Contains(host, ":") && net.ParseIP(host) == nil {
		return "", fmt.Errorf("%w: %q: want host or host:port", ErrBadServerList, entry)
	}
	if !validPort(port) {
		return "", fmt.Errorf("%w: %q: bad port %q", ErrBadServerList, entry, port)
	}
	return net.JoinHostPort(host, port), nil
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 {
		return false
	}
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n > 0 && n <= 65535
}

// ServersFromEnv returns the server list the environment names:
// $LSFORCEHOST if set, else $LSHOST, else "" (getenv is os.Getenv in
// programs, a map in tests).
func ServersFromEnv(getenv func(string) string) string {
	if v := strings.TrimSpace(getenv(EnvForceHost)); v != "" {
		return v
	}
	return strings.TrimSpace(getenv(EnvHost))
}
