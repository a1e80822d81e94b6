gateway {
  name = "gw-01"
}

gateway {
  name = "gw-02"
}

group "designers" {
  users = ["alice"]
}

group "designers" {
  users = ["bob"]
}

host_group "lab" {
  hosts = ["ws-01"]
}

host_group "lab" {
  hosts = ["ws-02"]
}

feature "cad" {
  seats = 1
}

feature "cad" {
  vendor  = "local"
  version = "1.0"
  seats   = 2
}

feature "cad" {
  version = "2.0"
  seats   = 2
  queue {}
  queue {}
}

plugin "clm" {
  path    = "missing"
  enabled = false
}

plugin "clm" {
  path    = "missing"
  enabled = false
}
