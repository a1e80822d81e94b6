package seats

import (
	"strconv"
	"strings"
)

// matcher is a Subject compiled against the configuration: groups resolved
// to sets and internet patterns parsed, so that matching a client allocates
// nothing.
type matcher struct {
	kind SubjectKind
	name string
	set  map[string]struct{} // Group and HostGroup members
	ip   [4]int16            // Internet: an octet, or -1 for '*'
}

func (m *matcher) match(c *Client) bool {
	switch m.kind {
	case User:
		return c.User == m.name
	case Host:
		return c.Host == m.name
	case Display:
		return c.Display == m.name
	case Project:
		return c.Project == m.name
	case Group:
		_, ok := m.set[c.User]
		return ok
	case HostGroup:
		_, ok := m.set[c.Host]
		return ok
	case Internet:
		ip, ok := parseIPv4(addrHost(c.Addr))
		if !ok {
			return false
		}
		for i, want := range m.ip {
			if want >= 0 && int16(ip[i]) != want {
				return false
			}
		}
		return true
	}
	return false
}

func matchAny(ms []matcher, c *Client) bool {
	for i := range ms {
		if ms[i].match(c) {
			return true
		}
	}
	return false
}

// compileSubject resolves s; sets holds the configuration's groups.
func compileSubject(s Subject, users, hosts map[string]map[string]struct{}) matcher {
	m := matcher{kind: s.Kind, name: s.Name}
	switch s.Kind {
	case Group:
		m.set = users[s.Name]
	case HostGroup:
		m.set = hosts[s.Name]
	case Internet:
		m.ip, _ = parseIPPattern(s.Name)
	}
	return m
}

// addrHost returns the IP part of "ip:port", "[ip]:port" or a bare "ip".
func addrHost(addr string) string {
	if strings.HasPrefix(addr, "[") {
		if i := strings.IndexByte(addr, ']'); i > 0 {
			return addr[1:i]
		}
		return addr
	}
	if i := strings.LastIndexByte(addr, ':'); i >= 0 && strings.IndexByte(addr, ':') == i {
		return addr[:i] // exactly one colon: host:port (more would be bare IPv6)
	}
	return addr
}

func parseIPv4(s string) (ip [4]uint8, ok bool) {
	for i := 0; i < 4; i++ {
		var part string
		if i < 3 {
			j := strings.IndexByte(s, '.')
			if j < 0 {
				return ip, false
			}
			part, s = s[:j], s[j+1:]
		} else {
			part = s
		}
		n, err := strconv.ParseUint(part, 10, 8)
		if err != nil {
			return ip, false
		}
		ip[i] = uint8(n)
	}
	return ip, true
}

// parseIPPattern parses an IPv4 pattern such as 10.1.*.*, FlexLM's INTERNET
// syntax: four octets, each a number or '*'.
func parseIPPattern(s string) (p [4]int16, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return p, false
	}
	for i, part := range parts {
		if part == "*" {
			p[i] = -1
			continue
		}
		n, err := strconv.ParseUint(part, 10, 8)
		if err != nil {
			return p, false
		}
		p[i] = int16(n)
	}
	return p, true
}
