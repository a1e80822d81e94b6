package sdk

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Network access control. A plugin block's allow = [...] lists the client
// networks that may reach the plugin at all; status_allow = [...] the
// (usually fewer) monitoring hosts that may also list what is licensed
// and who holds it (status queries: concurrent-lm STATUS, lmstat, lsmon,
// Sentinel discovery). The gateway validates both lists and hands them to
// the plugin process, where the SDK applies allow to every socket before
// the plugin sees it: a refused TCP connection is closed as soon as it is
// accepted, a refused datagram is dropped, and both are counted
// (access_denied_total). No plugin code runs for them, so no plugin can
// forget the check. status_allow needs the plugin's help, since only the
// plugin knows which of its requests are status queries: it asks
// Env.Access.CheckStatus and answers its protocol's "not authorized" error.

// ErrNotAuthorized is what Access.CheckStatus returns (wrapped in a
// *NotAuthorizedError) for a client that status_allow does not list.
var ErrNotAuthorized = errors.New("not authorized")

// NotAuthorizedError says which address was refused, and by which list.
type NotAuthorizedError struct {
	Addr string // the client's address, as the plugin saw it
	List string // the attribute that refused it: "status_allow"
}

func (e *NotAuthorizedError) Error() string {
	return fmt.Sprintf("%s: %s is not in %s", ErrNotAuthorized, e.Addr, e.List)
}

// Unwrap makes errors.Is(err, ErrNotAuthorized) hold.
func (e *NotAuthorizedError) Unwrap() error { return ErrNotAuthorized }

// ParseAllowEntry parses one entry of an allow or status_allow list: a
// network in CIDR notation ("10.0.0.0/8", "fd00::/8") or a single address
// ("192.0.2.7", "::1"), IPv4 or IPv6. A network with bits set past its
// prefix length ("10.1.2.3/8") is refused rather than silently widened or
// narrowed, and so are zones ("fe80::1%eth0"), which no client address
// carries. An IPv4-mapped IPv6 entry ("::ffff:10.0.0.0/104") is taken as
// the IPv4 network it maps.
func ParseAllowEntry(s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, errors.New("is empty")
	}
	if strings.TrimSpace(s) != s {
		return netip.Prefix{}, fmt.Errorf("%q has spaces around it", s)
	}
	if strings.Contains(s, "%") {
		return netip.Prefix{}, fmt.Errorf("%q has a zone; write the address or network without it", s)
	}
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is neither an IP address nor a network in CIDR notation (such as 10.0.0.0/8)", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a network in CIDR notation (such as 10.0.0.0/8 or fd00::/8)", s)
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("%q has bits set past its /%d prefix; the network is %s", s, p.Bits(), m)
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("%q is an IPv4-mapped network shorter than /96", s)
		}
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96), nil
	}
	return p, nil
}

// ParseAllowList parses every entry of a list; an error names the entry by
// its index.
func ParseAllowList(entries []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(entries))
	for i, s := range entries {
		p, err := ParseAllowEntry(s)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// Access is a plugin instance's network access control, from its plugin
// block's allow and status_allow. A nil *Access, or one made from empty
// lists, allows everything. Its methods are safe for concurrent use.
type Access struct {
	allow   []netip.Prefix // empty: every address
	status  []netip.Prefix // empty: every address allow admits
	metrics *Metrics
	refused *Counter // status queries refused
}

// NewAccess parses the two lists. Status queries must pass both: a client
// that allow refuses never gets as far as asking. m receives the
// access_denied_total and status_denied_total counters (nil: not reported).
func NewAccess(allow, statusAllow []string, m *Metrics) (*Access, error) {
	a := &Access{metrics: m}
	var err error
	if a.allow, err = ParseAllowList(allow); err != nil {
		return nil, fmt.Errorf("allow: %w", err)
	}
	if a.status, err = ParseAllowList(statusAllow); err != nil {
		return nil, fmt.Errorf("status_allow: %w", err)
	}
	a.refused = m.Counter("status_denied_total", "Status queries refused by the plugin's status_allow list (answered not authorized).")
	return a, nil
}

// Restricted reports whether allow limits the clients (false: every
// address may connect).
func (a *Access) Restricted() bool { return a != nil && len(a.allow) > 0 }

// Allows reports whether allow admits a client at addr.
func (a *Access) Allows(addr net.Addr) bool {
	if a == nil {
		return true
	}
	return admits(a.allow, addr)
}

// AllowsStatus reports whether a client at addr may ask status queries:
// both allow and status_allow admit it.
func (a *Access) AllowsStatus(addr net.Addr) bool {
	if a == nil {
		return true
	}
	return admits(a.allow, addr) && admits(a.status, addr)
}

// CheckStatus is AllowsStatus as an error: nil, or a *NotAuthorizedError
// (errors.Is ErrNotAuthorized) after counting the refusal. A plugin calls
// it before answering any request that lists features, holders or servers,
// and answers its protocol's "not authorized" error when it fails.
func (a *Access) CheckStatus(addr net.Addr) error {
	if a.AllowsStatus(addr) {
		return nil
	}
	a.refused.Inc()
	s := "unknown address"
	if addr != nil {
		s = addr.String()
	}
	return &NotAuthorizedError{Addr: s, List: "status_allow"}
}

// admits reports whether addr is in list; an empty list admits everything,
// and an address that is not IP (or is nil) is admitted by nothing else.
func admits(list []netip.Prefix, addr net.Addr) bool {
	if len(list) == 0 {
		return true
	}
	ip, ok := addrIP(addr)
	if !ok {
		return false
	}
	for _, p := range list {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// addrIP is the IP of a TCP or UDP address, IPv4-mapped addresses (from a
// dual-stack socket) as IPv4.
func addrIP(addr net.Addr) (netip.Addr, bool) {
	var ip netip.Addr
	switch a := addr.(type) {
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	case *net.UDPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	case nil:
		return netip.Addr{}, false
	default:
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return netip.Addr{}, false
		}
		ip = ap.Addr()
	}
	if !ip.IsValid() {
		return netip.Addr{}, false
	}
	return ip.Unmap().WithZone(""), true
}
