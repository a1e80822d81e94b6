plugin "concurrentlm" {
  path   = "../bin/licensegw-concurrentlm"
  sha256 = "9f86d081"
  listen = {
    tcp = ":1648"
    udp = "1648"
  }
}

plugin "missing" {
  path = "./bin/no-such-plugin"
}

plugin "directory" {
  path = "../bin"
}

plugin "not_executable" {
  path = "plugins.hcl"
}

plugin "bad name" {
  path    = "x"
  enabled = false
}

plugin "no_path" {
  args = ["-v"]
}

plugin "acl" {
  path         = "../bin/licensegw-concurrentlm"
  allow        = ["10.0.0.0/8", "10.1.2.3/8", "ws-01", " 10.0.0.1"]
  status_allow = []
}

plugin "acl_more" {
  path  = "../bin/licensegw-concurrentlm"
  allow = [
    "fe80::1%eth0",
    "192.168.0.0/33",
  ]
  status_allow = "10.0.0.0/8"
}

plugin "procs" {
  path       = "../bin/licensegw-concurrentlm"
  gomaxprocs = 0
}

plugin "procs_negative" {
  path       = "../bin/licensegw-concurrentlm"
  gomaxprocs = -2
}

plugin "procs_fraction" {
  path       = "../bin/licensegw-concurrentlm"
  gomaxprocs = 1.5
}

plugin "procs_word" {
  path       = "../bin/licensegw-concurrentlm"
  gomaxprocs = "many"
}
