# /etc/licensegw/config.hcl in the container image (Dockerfile). Mount your
# own over it (-v /srv/licensegw/etc:/etc/licensegw:ro), with licence files
# beside it and plugin paths under /usr/local/bin.
gateway {
  name     = "gw-container"
  data_dir = "/var/lib/licensegw"
}

# Listen on every interface of the container; publish the admin API and
# NATS on the host's loopback only (-p 127.0.0.1:7648:7648): both require
# credentials (admin.token, nats-audit.nk in the data directory) but this
# example turns on no TLS. docs/security.md: tls blocks, identities.
admin {
  listen = "0.0.0.0:7648"
}

nats {
  listen = "0.0.0.0:4222"
}

feature "docviewer" {
  version   = "1.0"
  seats     = 50
  lease_ttl = "300s"
}

feature "cad_lite" {
  version = "2024.1"
  seats   = 2
  queue {
    max_length = 20
    max_wait   = "30m"
  }
}

plugin "concurrentlm" {
  path   = "/usr/local/bin/licensegw-concurrentlm"
  listen = { tcp = ":1648", udp = ":1648" }
}
