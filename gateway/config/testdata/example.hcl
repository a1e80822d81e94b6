# licensegw configuration: every option, with its default where it has one.
# Relative paths are relative to this file's directory.

gateway {
  name      = "gw-01"       # default: the host name
  data_dir  = "./data"      # default "./data"
  log_level = "info"        # trace, debug, info, warn or error; LICENSEGW_LOG overrides it
}

admin {
  enabled = true                # default true
  listen  = "127.0.0.1:7648"    # default; "" disables the admin API too
}

nats {
  embedded = true               # default: an in-process NATS server with JetStream in data_dir
  listen   = "127.0.0.1:4222"   # the embedded server's client address (default)
  # url         = "nats://nats-1:4222,nats://nats-2:4222"  # an existing NATS cluster instead
  # credentials = "/etc/licensegw/gateway.creds"          # its credentials file
  prefix   = "licensegw"        # subject prefix (default)
  stream   = "LICENSEGW_EVENTS" # JetStream stream (default)
  replicas = 1                  # stream replicas, 1 to 5; more need a cluster
}

signing {
  enabled  = true               # default: grants are signed with an Ed25519 key
  key_file = "./data/signing.key" # default <data_dir>/signing.key, made at first start
}

group "designers" {
  users = ["alice", "bob", "carol"]
}

group "contractors" {
  users = ["dave"]
}

host_group "lab" {
  hosts = ["ws-01", "ws-02"]
}

feature "cad_pro" {
  vendor      = "acme"          # default "local"
  version     = "2024.1"        # default "1.0"
  seats       = 10              # required
  start       = "2026-01-01"    # a date or an RFC 3339 time; default: always
  expiry      = "2027-12-31"    # through the end of that day (UTC); default "permanent"
  lease_ttl   = "120s"          # a duration or seconds; default 120s, at least 5s
  description = "CAD, professional edition"

  queue {                       # present: requests may wait for a seat
    max_length = 20             # default 100
    max_wait   = "30m"          # default: as long as the request asks
  }

  borrow {                      # present: seats may be borrowed for offline use
    max = "72h"                 # required: the longest borrow
  }

  reserve {                     # keep seats for someone: one subject per block
    seats = 2
    group = "designers"
  }

  max {                         # at most this many seats for someone
    seats = 1
    user  = "dave"
  }

  include {                     # when present, only these may use the feature
    groups      = ["designers", "contractors"]
    host_groups = ["lab"]
  }

  exclude {                     # these may not
    users    = ["mallory"]
    hosts    = ["kiosk-01"]
    displays = [":99"]
    internet = ["192.168.77.*"]
    projects = ["legacy"]
  }
}

feature "cad_viewer" {
  seats     = 50
  expiry    = "permanent"
  lease_ttl = 300
}

plugin "concurrentlm" {
  path    = "./bin/licensegw-concurrentlm"
  sha256  = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08" # placeholder: sha256sum of the executable
  args    = ["-v"]
  listen  = { tcp = ":1648", udp = ":1648" }
  enabled = true

  config {                      # the plugin's own settings, checked against its schema
    greeting = env("LICENSEGW_GREETING", "welcome")
  }
}

plugin "flexlm" {
  path    = "./bin/licensegw-flexlm"
  enabled = false
}
