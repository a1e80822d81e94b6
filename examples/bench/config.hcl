# Configuration `make bench` starts for `licensegw bench`: its own ports and
# data directory (so it runs beside `make run`), one feature with enough
# seats for every client, and no per-client rate limit (every load client
# comes from 127.0.0.1, which the default limit of 2000 requests/s per IP
# would throttle). The FlexLM-style and Sentinel-style plugins serve the
# same feature for `licensegw bench --flexlm ... --sentinel ...`.

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

plugin "flexlm" {
  path   = "../../bin/licensegw-flexlm"
  listen = { lmgrd = "127.0.0.1:12700", vendor = "127.0.0.1:12710" }
  config {
    max_connections_per_ip = 4096
  }
}

# Every load client comes from 127.0.0.1: the rate limit and the
# retransmission cache's share per address are raised above a run's rate
# (a minute of 30,000 state-changing requests per second).
plugin "sentinel" {
  path   = "../../bin/licensegw-sentinel"
  listen = { udp = "127.0.0.1:15093" }
  config {
    rate_limit           = 1000000
    rate_burst           = 1000000
    cache_size           = 2097152
    cache_entries_per_ip = 2097152
  }
}
