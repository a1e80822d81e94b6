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
