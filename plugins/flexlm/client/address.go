package client

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/licensegw/licensegw/plugins/flexlm/licfile"
)

// DefaultPort is the lmgrd port when an address names none.
const DefaultPort = 27000

// ErrBadAddress is wrapped by ParseServers errors.
var ErrBadAddress = errors.New("bad server address")

// Address is a licence server: port@host.
type Address struct {
	Host string
	Port int
}

// String formats a as port@host.
func (a Address) String() string { return fmt.Sprintf("%d@%s", a.Port, a.Host) }

// HostPort formats a for net.Dial.
func (a Address) HostPort() string { return net.JoinHostPort(a.Host, strconv.Itoa(a.Port)) }

// ParseServers parses what lmutil's -c takes: port@host, @host (the
// default port), a comma- or colon-separated list of those, or the path of a
// licence file whose SERVER lines name the servers.
func ParseServers(spec string) ([]Address, error) {
	if spec == "" {
		return nil, fmt.Errorf("%w: empty", ErrBadAddress)
	}
	if !strings.Contains(spec, "@") {
		if _, err := os.Stat(spec); err == nil {
			return serversOfFile(spec)
		}
	}
	var out []Address
	for _, part := range strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == ':' }) {
		part = strings.TrimSpace(part)
		if !strings.Contains(part, "@") {
			// $LM_LICENSE_FILE may mix licence files and port@host.
			if _, err := os.Stat(part); err == nil {
				as, err := serversOfFile(part)
				if err != nil {
					return nil, err
				}
				out = append(out, as...)
				continue
			}
		}
		a, err := parseOne(part)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %q", ErrBadAddress, spec)
	}
	return out, nil
}

func parseOne(s string) (Address, error) {
	port, host, ok := strings.Cut(s, "@")
	if !ok || host == "" {
		return Address{}, fmt.Errorf("%w: %q: want port@host", ErrBadAddress, s)
	}
	a := Address{Host: host, Port: DefaultPort}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n <= 0 || n > 65535 {
			return Address{}, fmt.Errorf("%w: %q: bad port %q", ErrBadAddress, s, port)
		}
		a.Port = n
	}
	return a, nil
}

func serversOfFile(path string) ([]Address, error) {
	f, err := licfile.ParseFile(path)
	if f == nil {
		return nil, err
	}
	var out []Address
	for _, s := range f.Servers {
		a := Address{Host: s.Host, Port: s.Port}
		if a.Port == 0 {
			a.Port = DefaultPort
		}
		if strings.EqualFold(a.Host, "this_host") {
			a.Host = "localhost"
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: licence file %s has no SERVER line", ErrBadAddress, path)
	}
	return out, nil
}
