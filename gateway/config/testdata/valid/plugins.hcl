plugin "clm" {
  path   = "../bin/licensegw-concurrentlm"
  sha256 = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"
  args   = ["-v", "--trace"]
  listen = { tcp = "0.0.0.0:1648", "udp" = "[::1]:1648" }
  allow        = ["10.0.0.0/8", "192.0.2.7", "fd00::/8", "::1"]
  status_allow = ["10.1.2.0/24"]
  gomaxprocs   = 2
}

plugin "uninstalled" {
  path    = "/nonexistent/licensegw-sentinel"
  enabled = false
}
