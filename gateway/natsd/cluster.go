package natsd

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster makes the embedded server one node of a NATS cluster (the
// gateway's high availability, DESIGN decision 3): its JetStream streams
// are replicated to the other nodes over routes.
type Cluster struct {
	// Name is the cluster's name, the same on every node.
	Name string
	// Listen is the route address other nodes connect to, host:port; port
	// 0 means a random free port (see Server.ClusterAddr).
	Listen string
	// Routes are the other nodes' route addresses (nats-route://host:port
	// or host:port). A node's own address may be listed too, so every
	// node can be given the same list. A node learns the nodes it was
	// not told of from those it reaches.
	Routes []string
	// Advertise, when set, is the route address (host:port) this node
	// gives the others for it, instead of Listen: what they dial when
	// they learn of it from another node.
	Advertise string
	// Username and Password, when set, are what every route must present
	// and what this node presents to the others.
	Username, Password string
}

// RoutePingInterval and RouteMaxPingsOut bound how long a route to a node
// that stopped answering stays up: about (RouteMaxPingsOut+1) *
// RoutePingInterval, 4 s.
const (
	RoutePingInterval = time.Second
	RouteMaxPingsOut  = 3
)

// ErrClusterConfig is wrapped by the errors a bad Cluster gives.
var ErrClusterConfig = errors.New("natsd: cluster")

// clusterOptions sets opts up for cluster c. JetStream in a cluster needs
// every server named, uniquely: the caller's Config.Name.
func clusterOptions(opts *server.Options, c *Cluster) error {
	if c == nil {
		return nil
	}
	if c.Name == "" {
		return fmt.Errorf("%w: a name is required", ErrClusterConfig)
	}
	if opts.ServerName == "" {
		return fmt.Errorf("%w: the server needs a name (Config.Name) to join a JetStream cluster", ErrClusterConfig)
	}
	host, port, err := splitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("%w: listen %q: %w", ErrClusterConfig, c.Listen, err)
	}
	routes, err := RouteURLs(c.Routes)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrClusterConfig, err)
	}
	opts.Cluster = server.ClusterOpts{
		Name: c.Name, Host: host, Port: port,
		Username: c.Username, Password: c.Password,
		// Keep retrying routes to nodes that are not up yet (or are
		// restarting) instead of giving up after a few attempts.
		ConnectRetries: -1,
		Advertise:      c.Advertise,
		// A node that stops answering (a frozen process or host, a
		// link that drops packets without a reset) keeps its routes,
		// and with them its interest, until its pings go unanswered:
		// with nats-server's defaults (a ping every 30 s at most on a
		// route, two outstanding) a minute or more, while the direct
		// gets and JetStream API requests routed to it time out (the
		// leader lease's reads among them). Measured in TestClusterFaults:
		// a new leader after a frozen idle leader in 4-14 s (median
		// 7 s) with these values, 10-31 s (median 20 s) without.
		PingInterval: RoutePingInterval,
		MaxPingsOut:  RouteMaxPingsOut,
	}
	opts.Routes = routes
	return nil
}

// RouteURLs parses route addresses, each nats-route://host:port or plain
// host:port, into the URLs nats-server dials.
func RouteURLs(routes []string) ([]*url.URL, error) {
	out := make([]*url.URL, 0, len(routes))
	for _, r := range routes {
		u, err := RouteURL(r)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// RouteURL parses one route address (see RouteURLs).
func RouteURL(r string) (*url.URL, error) {
	r = strings.TrimSpace(r)
	addr, ok := strings.CutPrefix(r, "nats-route://")
	if !ok && strings.Contains(r, "://") {
		return nil, fmt.Errorf("route %q: the scheme must be nats-route://", r)
	}
	host, port, err := splitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("route %q: %w", r, err)
	}
	if host == "" || port <= 0 {
		return nil, fmt.Errorf("route %q: a host and a port are required", r)
	}
	return &url.URL{Scheme: "nats-route", Host: net.JoinHostPort(host, strconv.Itoa(port))}, nil
}

// splitHostPort parses host:port; port 0 becomes nats-server's "random".
func splitHostPort(addr string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", portStr)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return host, port, nil
}

// ClusterAddr is this node's route address, host:port with the port
// actually bound, or "" when the server is not in a cluster.
func (s *Server) ClusterAddr() string {
	a := s.ns.ClusterAddr()
	if a == nil {
		return ""
	}
	return a.String()
}

// Peer is one node of the cluster as this server sees it.
type Peer struct {
	Name    string
	Self    bool          // this server
	Current bool          // seen recently and caught up with the meta layer
	Offline bool          // not seen recently
	Active  time.Duration // since it was last seen (0 for Self)
}

// ClusterHealth is the JetStream cluster as this server sees it: the meta
// leader ("" while there is none: no quorum, nothing can be replicated)
// and every peer, this server first.
func (s *Server) ClusterHealth() (leader string, peers []Peer) {
	info, err := s.ns.Jsz(&server.JSzOptions{})
	if err != nil || info.Meta == nil {
		return "", nil
	}
	peers = append(peers, Peer{Name: s.ns.Name(), Self: true, Current: info.Meta.Leader != ""})
	for _, p := range info.Meta.Replicas {
		if p.Name == s.ns.Name() {
			continue
		}
		peers = append(peers, Peer{Name: p.Name, Current: p.Current, Offline: p.Offline, Active: p.Active})
	}
	return info.Meta.Leader, peers
}
