group "designers" {
  users = ["alice"]
}

feature "cad" {
  seats = 4

  reserve {
    seats = 1
  }

  reserve {
    seats = 1
    user  = "alice"
    host  = "ws-01"
  }

  reserve {
    seats = 0
    user  = "bob"
  }

  reserve {
    seats = 3
    group = "designers"
  }

  reserve {
    seats = 2
    user  = "carol"
  }

  max {
    seats = -1
    user  = "dave"
  }

  max {
    seats = 1
    group = "drafters"
  }

  include {
    users       = ["alice", ""]
    host_groups = ["lab"]
  }

  exclude {
    internet = ["10.1.*.*", "10.256.*.*", "10.*"]
  }

  exclude {
  }
}
