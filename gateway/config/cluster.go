package config

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// DefaultClusterReplicas is the journal's replica count when a nats
// cluster { } block is present and replicas is not set: three nodes
// survive the loss of one.
const DefaultClusterReplicas = 3

// NATSCluster is the nats { cluster { } } block: the embedded server is
// one node of a NATS cluster, and the journal is replicated on it (high
// availability). Every node has the same block but its own listen.
type NATSCluster struct {
	Name   string   // the cluster's name, the same on every node
	Listen string   // this node's route address, host:port
	Routes []string // every node's route address, nats-route://host:port
	// Advertise, when set, is the route address this node tells the
	// others to reach it at, instead of Listen (behind NAT, a container's
	// published port, a proxy); host:port.
	Advertise string
	// Password, when set, is what routes between the nodes authenticate
	// with (user RouteUser); the same on every node.
	Password  string
	DeclRange hcl.Range // the cluster block, for diagnostics
}

// RouteUser is the user name routes authenticate with when the cluster
// block sets a password.
const RouteUser = "licensegw-route"

var natsClusterSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "name", Required: true}, {Name: "listen", Required: true},
		{Name: "routes", Required: true}, {Name: "password"}, {Name: "advertise"},
	},
}

// natsCluster decodes the nats block's cluster block; nil when absent.
func (d *decoder) natsCluster(b *hcl.Block) *NATSCluster {
	if b == nil {
		return nil
	}
	c := &NATSCluster{DeclRange: b.DefRange}
	a := d.content(b.Body, natsClusterSchema).Attributes
	if d.str(a, "name", &c.Name) {
		if err := checkName(c.Name); err != nil {
			d.errorf(a["name"].Expr.Range(), "Invalid cluster name", "The cluster name %s.", err)
		}
	}
	if d.str(a, "listen", &c.Listen) {
		if err := checkAddr(c.Listen); err != nil {
			d.errorf(a["listen"].Expr.Range(), "Invalid listen address", "The cluster listen address %s.", err)
		}
	}
	if d.strings(a, "routes", &c.Routes) {
		d.checkRoutes(a["routes"], c.Routes)
	}
	if d.str(a, "advertise", &c.Advertise) {
		if err := checkAddr(c.Advertise); err != nil {
			d.errorf(a["advertise"].Expr.Range(), "Invalid advertise address", "The cluster advertise address %s.", err)
		}
	}
	if d.str(a, "password", &c.Password) && len(c.Password) < 16 {
		d.errorf(a["password"].Expr.Range(), "Weak route password",
			"The route password must be at least 16 characters (use env(\"NAME\") to keep it out of the file).")
	}
	return c
}

// checkRoutes checks each route address and that there are some.
func (d *decoder) checkRoutes(attr *hcl.Attribute, routes []string) {
	if len(routes) == 0 {
		d.errorf(attr.Expr.Range(), "Missing routes",
			"A cluster needs the route addresses of its nodes, e.g. [\"nats-route://h1:6222\", \"nats-route://h2:6222\", \"nats-route://h3:6222\"].")
		return
	}
	seen := map[string]int{}
	for i, r := range routes {
		rng := elemRange(attr.Expr, i)
		if err := checkRoute(r); err != nil {
			d.errorf(rng, "Invalid route", "The route %s.", err)
			continue
		}
		key := strings.TrimPrefix(strings.TrimSpace(r), "nats-route://")
		if j, dup := seen[key]; dup {
			d.errorf(rng, "Duplicate route", "The route %q is listed twice (also element %d).", r, j)
		}
		seen[key] = i
	}
}

// checkRoute checks one route address: nats-route://host:port or
// host:port, with a host and a port other than 0.
func checkRoute(r string) error {
	addr, ok := strings.CutPrefix(strings.TrimSpace(r), "nats-route://")
	if !ok && strings.Contains(addr, "://") {
		return fmt.Errorf("%q must use the nats-route:// scheme (or none)", r)
	}
	if err := checkAddr(addr); err != nil {
		return err
	}
	if strings.HasPrefix(addr, ":") || strings.HasSuffix(addr, ":0") {
		return fmt.Errorf("%q needs a host and a port other than 0", r)
	}
	return nil
}

// replicas decodes nats.replicas and checks it against the cluster block:
// an embedded server alone has 1 replica, a cluster of k nodes at most k.
func (d *decoder) replicas(a hcl.Attributes, n *NATS) {
	if n.Cluster != nil && !n.Embedded {
		d.errorf(n.Cluster.DeclRange, "Conflicting NATS settings",
			"The cluster block makes the embedded NATS server a node of a cluster, but url names an existing NATS server; set one or the other.")
		n.Cluster = nil
	}
	if !d.integer(a, "replicas", &n.Replicas) {
		if n.Cluster != nil {
			n.Replicas = min(DefaultClusterReplicas, len(n.Cluster.Routes)+1)
		}
		return
	}
	rng := a["replicas"].Expr.Range()
	switch {
	case n.Replicas < 1 || n.Replicas > 5:
		d.errorf(rng, "Invalid replicas", "A JetStream stream has 1 to 5 replicas, not %d.", n.Replicas)
	case n.Embedded && n.Cluster == nil && n.Replicas != 1:
		d.errorf(rng, "Invalid replicas",
			"The embedded NATS server is a single node, so its stream has 1 replica; replicas need a NATS cluster (a cluster block, or url).")
	case n.Cluster != nil && n.Replicas > len(n.Cluster.Routes)+1:
		d.errorf(rng, "Invalid replicas",
			"The cluster lists %d routes, so it has at most %d nodes, fewer than %d replicas.", len(n.Cluster.Routes), len(n.Cluster.Routes)+1, n.Replicas)
	}
}
