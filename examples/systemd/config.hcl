# /etc/licensegw/config.hcl for examples/systemd/licensegw.service: the
# repository's config.hcl with the paths of an installed system.
gateway {
  name     = "gw-01"
  data_dir = "/var/lib/licensegw"
}

admin {
  listen = "127.0.0.1:7648"
}

nats {
  listen = "127.0.0.1:4222"
}

feature "cad_lite" {
  version = "1.0"
  seats   = 5
}

plugin "concurrentlm" {
  path   = "/usr/local/bin/licensegw-concurrentlm"
  listen = { tcp = ":1648", udp = ":1648" }
}
