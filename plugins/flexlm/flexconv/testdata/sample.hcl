# licensegw configuration imported from:
#   acme.lic
#   acme.opt
# Licence signatures are kept in the source files but are NOT verified.
#
# Import notes:
#   acme.lic:4:1: info: SERVER port 27000: the flexlm plugin's "lmgrd" listener (default :27000) should listen on it
#   acme.lic:5:1: info: VENDOR acme port 27100: the flexlm plugin's "vendor" listener (default :27100) should listen on it
#   acme.lic:5:1: info: VENDOR acme names options file acme.opt: import it with --options
#   acme.lic:6:1: info: USE_SERVER: clients are served by the gateway; the line has no further effect

group "designers" {
  users = ["alice", "bob", "carol"]
}

host_group "lab" {
  hosts = ["ws-01", "ws-02"]
}

feature "cad_pro" {
  # acme.lic:8:1: info: signature kept but not verified (verifying needs the vendor's keys)
  # acme.lic:8:1: info: ISSUER, NOTICE kept as metadata only
  # acme.lic:8:1: info: 2 lines pooled into 15 seats of acme cad_pro v2024.1
  # acme.lic:10:1: info: signature kept but not verified (verifying needs the vendor's keys)
  vendor      = "acme"
  version     = "2024.1"
  seats       = 15
  expiry      = "2030-12-31"
  description = "Acme CAD Professional"

  queue {}

  borrow {
    max = "72h"
  }

  reserve {
    seats = 2
    group = "designers"
  }
}

feature "solver" {
  # acme.lic:12:1: info: signature kept but not verified (verifying needs the vendor's keys)
  vendor  = "acme"
  version = "3.0"
  seats   = 4
  expiry  = "permanent"

  queue {}

  max {
    seats = 3
    user  = "dave"
  }
}

feature "viewer" {
  # acme.lic:13:1: info: signature kept but not verified (verifying needs the vendor's keys)
  # acme.lic:13:1: info: NOTICE kept as metadata only
  vendor      = "acme"
  version     = "1.0"
  seats       = 20
  expiry      = "permanent"
  description = "Acme Viewer"

  queue {}

  exclude {
    hosts = ["kiosk-01"]
  }
}
