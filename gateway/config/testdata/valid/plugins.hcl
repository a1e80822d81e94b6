plugin "clm" {
  path   = "../bin/licensegw-concurrentlm"
  sha256 = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"
  args   = ["-v", "--trace"]
  listen = { tcp = "0.0.0.0:1648", "udp" = "[::1]:1648" }
}

plugin "uninstalled" {
  path    = "/nonexistent/licensegw-sentinel"
  enabled = false
}
