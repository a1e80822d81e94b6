# licensegw default configuration: `make run` serves this file as it is.
#
# It starts an embedded NATS server with JetStream on 127.0.0.1:4222 (events
# on licensegw.events.>), the admin API on 127.0.0.1:7648, and the protocol
# plugins below. docs/configuration.md describes every option.

gateway {
  name     = "gw-01"
  data_dir = "./data"
}

admin {
  listen = "127.0.0.1:7648"
}

nats {
  embedded = true
  listen   = "127.0.0.1:4222"
}

group "designers" {
  users = ["alice", "bob", "carol"]
}

host_group "lab" {
  hosts = ["ws-01", "ws-02"]
}

# A small feature that queues: with both seats taken, a CHECKOUT with
# wait=60 waits its turn (first in, first out).
feature "cad_lite" {
  version     = "2024.1"
  seats       = 2
  lease_ttl   = "120s"
  description = "CAD, light edition (queueing)"
  queue {
    max_length = 20
    max_wait   = "30m"
  }
  borrow {
    max = "72h"
  }
}

# A feature with a reservation and a limit: one seat is kept for the
# designers, and nobody on the lab hosts takes more than two.
feature "analysis" {
  version     = "3.0"
  seats       = 4
  description = "Analysis (reservation and limit)"
  reserve {
    seats = 1
    group = "designers"
  }
  max {
    seats      = 2
    host_group = "lab"
  }
  exclude {
    users = ["mallory"]
  }
}

# Many seats, long-lived.
feature "docviewer" {
  version     = "1.0"
  seats       = 500
  lease_ttl   = "300s"
  description = "Document viewer (site licence)"
}

# The IANA concurrent-lm protocol (docs/concurrent-lm.md) on TCP and UDP 1648:
#   printf 'CHECKOUT feature=docviewer user=u host=h\nQUIT\n' | nc localhost 1648
#
# allow: only loopback and the private networks may reach a licence port;
# narrow it to your client subnets. status_allow would also restrict status
# queries (STATUS, lmstat, lsmon) to monitoring hosts (docs/security.md).
plugin "concurrentlm" {
  path   = "./bin/licensegw-concurrentlm"
  listen = { tcp = ":1648", udp = ":1648" }
  allow  = ["127.0.0.0/8", "::1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
  # status_allow = ["127.0.0.1", "::1"]
}

# FlexLM-style: lmgrd on 27000 tells clients the vendor daemon's port, 27100:
#   ./bin/lmutil lmstat -a -c 27000@localhost
# The plugin imports its licence and options files: their features
# (vendor acme: cad_pro, solver, viewer) and policies become the gateway's,
# reread at every reload (lmreread too).
plugin "flexlm" {
  path   = "./bin/licensegw-flexlm"
  listen = { lmgrd = ":27000", vendor = ":27100" }
  allow  = ["127.0.0.0/8", "::1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
  config {
    license_file = "examples/licenses/acme.lic"
    options_file = "examples/licenses/acme.opt"
  }
}

# Three render nodes at a time, each holding a Keygen licence file; relay's
# default lease TTL of 60 s (a node renews it with a repeated PUT).
feature "renderfarm" {
  seats       = 3
  lease_ttl   = "60s"
  description = "Render nodes (Keygen licence files over keygen-relay's API)"
}

# Sentinel-style tokens over UDP 5093:
#   ./bin/lsmon localhost
# Its reservation file adds a group reservation to the features above.
plugin "sentinel" {
  path   = "./bin/licensegw-sentinel"
  listen = { udp = ":5093" }
  allow  = ["127.0.0.0/8", "::1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
  config {
    reservation_file = "examples/licenses/sentinel.rsv"
  }
}

# keygen-relay's node API on HTTP 6349 (docs/relay.md): a node claims a
# seat and gets a Keygen licence file, verified with the vendor's key:
#   curl -X PUT localhost:6349/v1/nodes/$(cat /etc/machine-id)
plugin "relay" {
  path   = "./bin/licensegw-relay"
  listen = { http = ":6349" }
  allow  = ["127.0.0.0/8", "::1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
  config {
    pool         = "renderfarm"
    licenses_dir = "examples/licenses/relay"
    public_key   = "0c9423a55bf2c415bb980f5bc4d68b435d52fcbbabc4ace3f2016343e4ba34c1"
  }
}
