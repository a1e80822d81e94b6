package client

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/licensegw/licensegw/plugins/flexlm/licfile"
)

// DefaultPort is the lmgrd port when an address names none.
const DefaultPort = 27000

// Environment variables that name licence servers, as FlexLM's clients
// read them: the vendor's own ($ACME_LICENSE_FILE for vendor acme) first,
// then EnvLicenseFile.
const (
	EnvLicenseFile  = "LM_LICENSE_FILE"
	vendorEnvSuffix = "_LICENSE_FILE"
)

// ListSeparator separates the entries of a licence search path
// ($LM_LICENSE_FILE, lmutil's -c): ':' on Unix, ';' on Windows, as in
// FlexLM (and as in PATH).
const ListSeparator = os.PathListSeparator

// maxServers bounds a search path: a few server systems, never a scan.
const maxServers = 64

// ErrBadAddress is wrapped by the errors of ParseServers and
// ParseSearchPath.
var ErrBadAddress = errors.New("bad server address")

// Address is a licence server: port@host.
type Address struct {
	Host string
	Port int
}

// String formats a as port@host (an IPv6 host in brackets).
func (a Address) String() string {
	if strings.Contains(a.Host, ":") {
		return fmt.Sprintf("%d@[%s]", a.Port, a.Host)
	}
	return fmt.Sprintf("%d@%s", a.Port, a.Host)
}

// HostPort formats a for net.Dial.
func (a Address) HostPort() string { return net.JoinHostPort(a.Host, strconv.Itoa(a.Port)) }

// System is a licence server system: one server, or the redundant servers
// of a triad (FlexLM's port@h1,port@h2,port@h3, or a licence file with
// three SERVER lines), which serve the same licences: a client uses any
// one of them and fails over to the others.
type System []Address

// String formats s as FlexLM does: port@h1,port@h2,...
func (s System) String() string {
	parts := make([]string, len(s))
	for i, a := range s {
		parts[i] = a.String()
	}
	return strings.Join(parts, ",")
}

// ParseSearchPath parses a licence search path, as $LM_LICENSE_FILE and
// lmutil's -c take it: entries separated by ListSeparator, tried in order,
// each one licence server system:
//
//   - port@host, or @host for the default port;
//   - port@h1,port@h2,port@h3: the servers of a redundant triad (any
//     number of comma-separated servers is taken);
//   - the path of a licence file, whose SERVER lines name the servers of
//     one system;
//   - the path of a directory, whose *.lic files are taken in name order,
//     one system each.
//
// An IPv6 host is written in brackets: 27000@[fd00::1].
func ParseSearchPath(spec string) ([]System, error) {
	return parseSearchPath(spec, ListSeparator, fileSystems)
}

// ParseServers is ParseSearchPath with every system's servers in one
// list, in order. (Before search paths, it split on both ',' and ':'; on
// Unix it still does.)
func ParseServers(spec string) ([]Address, error) {
	systems, err := ParseSearchPath(spec)
	if err != nil {
		return nil, err
	}
	return flatten(systems), nil
}

func flatten(systems []System) []Address {
	var out []Address
	for _, s := range systems {
		out = append(out, s...)
	}
	return out
}

// SearchPathFromEnv returns the licence search path the environment
// names, as a FlexLM client builds it: $VENDOR_LICENSE_FILE (the vendor
// name in upper case, when vendor is not "") and then $LM_LICENSE_FILE;
// "" when neither is set. getenv is os.Getenv in programs.
func SearchPathFromEnv(vendor string, getenv func(string) string) string {
	var parts []string
	if vendor != "" {
		if v := strings.TrimSpace(getenv(strings.ToUpper(vendor) + vendorEnvSuffix)); v != "" {
			parts = append(parts, v)
		}
	}
	if v := strings.TrimSpace(getenv(EnvLicenseFile)); v != "" {
		parts = append(parts, v)
	}
	return strings.Join(parts, string(ListSeparator))
}

// filesOf reads the systems of a path that names no port@host: a licence
// file's, or those of a directory's *.lic files.
type filesOf func(path string) ([]System, error)

// parseSearchPath is ParseSearchPath with the separator and the file
// reader given (tests and the fuzz target use other ones).
func parseSearchPath(spec string, sep rune, files filesOf) ([]System, error) {
	var out []System
	n := 0
	for _, entry := range splitOutsideBrackets(spec, sep) {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		var systems []System
		if strings.Contains(entry, "@") {
			s, err := parseSystem(entry)
			if err != nil {
				return nil, err
			}
			systems = []System{s}
		} else {
			var err error
			if systems, err = files(entry); err != nil {
				return nil, err
			}
		}
		for _, s := range systems {
			if n += len(s); n > maxServers {
				return nil, fmt.Errorf("%w: more than %d servers", ErrBadAddress, maxServers)
			}
		}
		out = append(out, systems...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %q names no server", ErrBadAddress, spec)
	}
	return out, nil
}

// splitOutsideBrackets splits s at sep, except within [...].
func splitOutsideBrackets(s string, sep rune) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch {
		case r == '[':
			depth++
		case r == ']' && depth > 0:
			depth--
		case r == sep && depth == 0:
			out = append(out, s[start:i])
			start = i + len(string(sep))
		}
	}
	return append(out, s[start:])
}

// parseSystem parses port@h1,port@h2,...
func parseSystem(entry string) (System, error) {
	var s System
	for part := range strings.SplitSeq(entry, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		a, err := parseOne(part)
		if err != nil {
			return nil, err
		}
		s = append(s, a)
	}
	if len(s) == 0 {
		return nil, fmt.Errorf("%w: %q names no server", ErrBadAddress, entry)
	}
	return s, nil
}

func parseOne(s string) (Address, error) {
	port, host, ok := strings.Cut(s, "@")
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
		if net.ParseIP(host) == nil || !strings.Contains(host, ":") {
			return Address{}, fmt.Errorf("%w: %q: want an IPv6 address in brackets", ErrBadAddress, s)
		}
	}
	if !ok || host == "" || strings.ContainsAny(host, "@,[] \t/") ||
		strings.Contains(host, ":") && net.ParseIP(host) == nil {
		return Address{}, fmt.Errorf("%w: %q: want port@host", ErrBadAddress, s)
	}
	a := Address{Host: host, Port: DefaultPort}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n <= 0 || n > 65535 || port[0] == '+' {
			return Address{}, fmt.Errorf("%w: %q: bad port %q", ErrBadAddress, s, port)
		}
		a.Port = n
	}
	return a, nil
}

// fileSystems reads the systems a path names: a licence file's SERVER
// lines, or every *.lic file of a directory.
func fileSystems(path string) ([]System, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is neither port@host nor a licence file: %w", ErrBadAddress, path, err)
	}
	if !fi.IsDir() {
		s, err := serversOfFile(path)
		if err != nil {
			return nil, err
		}
		return []System{s}, nil
	}
	files, err := filepath.Glob(filepath.Join(path, "*.lic"))
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var out []System
	for _, f := range files {
		s, err := serversOfFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: directory %s has no *.lic file", ErrBadAddress, path)
	}
	return out, nil
}

func serversOfFile(path string) (System, error) {
	f, err := licfile.ParseFile(path)
	if f == nil {
		return nil, err
	}
	var out System
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
