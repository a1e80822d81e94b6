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
feature "cad_pro" {
  vendor      = "local"
  version     = "2024.1"
  seats       = 2
  lease_ttl   = "120s"
  description = "CAD, professional edition (queueing)"
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
feature "solver" {
  version     = "3.0"
  seats       = 4
  description = "Solver (reservation and limit)"
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
feature "viewer" {
  version     = "1.0"
  seats       = 500
  lease_ttl   = "300s"
  description = "Viewer (site licence)"
}

# The IANA concurrent-lm protocol (docs/concurrent-lm.md) on TCP and UDP 1648:
#   printf 'CHECKOUT feature=viewer user=u host=h\n' | nc localhost 1648
plugin "concurrentlm" {
  path   = "./bin/licensegw-concurrentlm"
  listen = { tcp = ":1648", udp = ":1648" }
}
