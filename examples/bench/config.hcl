# Configuration `make bench` starts for `licensegw bench`: its own ports and
# data directory (so it runs beside `make run`), one feature with enough
# seats for every client, and no per-client rate limit (every load client
# comes from 127.0.0.1, which the default limit of 2000 requests/s per IP
# would throttle).

gateway {
  name     = "bench"
  data_dir = "../../data/bench"
}

admin {
  listen = "127.0.0.1:17648"
}

nats {
  listen = "127.0.0.1:14222"
}

feature "bench" {
  seats     = 100000
  lease_ttl = "60s"
}

plugin "concurrentlm" {
  path   = "../../bin/licensegw-concurrentlm"
  listen = { tcp = "127.0.0.1:11648", udp = "127.0.0.1:11648" }
  config {
    rate                   = 0
    max_connections_per_ip = 4096
  }
}
