host_group "lab" {
  hosts = ["ws-01"]
}

group "empty" {
  users = []
}

feature "cad" {
  seats = 5

  reserve {
    seats = 2
    host_group = "lab"
  }

  reserve {
    seats    = 3
    internet = "10.1.*.*"
  }

  max {
    seats = 0
    group = "empty"
  }

  max {
    seats   = 2
    project = "apollo"
  }

  include {
    users    = ["alice"]
    displays = [":0"]
  }

  include {
    projects = ["apollo"]
  }

  exclude {
    hosts = ["kiosk"]
  }
}

feature "cad" {
  version = "2.0"
  seats   = 1
}

feature "cad" {
  vendor = "other"
  seats  = 1
}
