# Node 1 of a three-node licensegw cluster on one machine (make cluster).
# The three files differ only in the node's name, data directory and ports;
# on three hosts each node would use the same ports on its own address.
# README.md beside this file explains the set-up.

gateway {
  name     = "gw-1"
  data_dir = "../../data/cluster/gw-1"
}

admin {
  listen = "127.0.0.1:7651"
}

# Every node signs grants with the same key: copy one key file to every
# host (here the three nodes share one file).
signing {
  key_file = "../../data/cluster/signing.key"
}

nats {
  listen = "127.0.0.1:4231"
  cluster {
    name   = "licensegw"
    listen = "127.0.0.1:6231"
    routes = [
      "nats-route://127.0.0.1:6231",
      "nats-route://127.0.0.1:6232",
      "nats-route://127.0.0.1:6233",
    ]
  }
  replicas = 3
}

# The features are the same on every node (status warns when they differ).
feature "cad_pro" {
  vendor      = "acme"
  version     = "2024.1"
  seats       = 5
  lease_ttl   = "120s"
  description = "CAD, professional edition"
}

feature "solver" {
  vendor  = "acme"
  version = "3.0"
  seats   = 2
  queue {
    max_length = 10
    max_wait   = "10m"
  }
}

# CLM/1 on 1641 (TCP and UDP): clients list every node,
#   licensegw run --server 127.0.0.1:1641,127.0.0.1:1642,127.0.0.1:1643 ...
plugin "concurrentlm" {
  path   = "../../bin/licensegw-concurrentlm"
  listen = { tcp = "127.0.0.1:1641", udp = "127.0.0.1:1641" }
}

# FlexLM-style: lmgrd on 27001, the vendor daemon on 27101. Clients and
# lmutil take the nodes as a triad:
#   lmutil lmstat -a -c 27001@127.0.0.1,27002@127.0.0.1,27003@127.0.0.1
plugin "flexlm" {
  path   = "../../bin/licensegw-flexlm"
  listen = { lmgrd = "127.0.0.1:27001", vendor = "127.0.0.1:27101" }
}

# Sentinel-style on UDP 5091: clients and lsmon take a server list,
#   lsmon 127.0.0.1:5091,127.0.0.1:5092,127.0.0.1:5093
plugin "sentinel" {
  path   = "../../bin/licensegw-sentinel"
  listen = { udp = "127.0.0.1:5091" }
}
