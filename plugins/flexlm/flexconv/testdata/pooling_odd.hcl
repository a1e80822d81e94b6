# licensegw configuration imported from:
#   pooling.lic
#   options_odd.opt
# Licence signatures are kept in the source files but are NOT verified.
#
# Import notes:
#   pooling.lic:9:1: warning: FEATURE sim (vendor acme) already defined at pooling.lic:4:1; FlexLM uses the first, this line is ignored
#   options_odd.opt: info: the licence file has 2 vendors; the options file is applied to the features of all of them
#   options_odd.opt:3:1: info: GROUP g1 is defined on 2 lines; their members are combined, as FlexLM does
#   options_odd.opt:9:1: info: HOST_GROUP h1 is defined on 2 lines; their members are combined, as FlexLM does
#   options_odd.opt:19:1: warning: INCLUDE: feature nosuchfeature is not in the licence (or not served by the gateway); line ignored
#   options_odd.opt:20:1: warning: REPORTLOG not imported: the gateway has no equivalent
#   options_odd.opt:21:1: warning: GROUPCASEINSENSITIVE not imported: the gateway has no equivalent

group "g1" {
  users = ["alice", "bob"]
}

group "g2" {
  users = ["carol", "dave"]
}

group "nosuch" {
  users = []
}

host_group "h1" {
  hosts = ["ws-01", "ws-02"]
}

feature "sim" {
  # pooling.lic:4:1: info: signature kept but not verified (verifying needs the vendor's keys)
  # pooling.lic:4:1: info: 3 lines pooled into 16 seats of acme sim v5.0
  # pooling.lic:4:1: warning: the pooled lines differ in expiry; the gateway keeps one value per pool and takes the most restrictive (earliest expiry, latest start, shortest borrow)
  # pooling.lic:5:1: info: signature kept but not verified (verifying needs the vendor's keys)
  # pooling.lic:6:1: info: signature kept but not verified (verifying needs the vendor's keys)
  # options_odd.opt:11:1: warning: RESERVE: feature sim version 9.9 is not in the licence (or not served by the gateway); line ignored
  # options_odd.opt:13:1: warning: qualifier ASSET_INFO on MAX is not supported; the line applies to every pool of sim
  # options_odd.opt:23:1: warning: MAX_BORROW_HOURS 5: the licence does not allow borrowing acme sim v5.0; nothing to limit
  vendor  = "acme"
  version = "5.0"
  seats   = 16
  expiry  = "2027-06-30"

  queue {}

  reserve {
    seats = 1
    user  = "alice"
  }

  max {
    seats = 4
    group = "g1"
  }

  max {
    seats = 1
    user  = "bob"
  }
}

feature "sim" {
  # pooling.lic:7:1: info: signature kept but not verified (verifying needs the vendor's keys)
  # options_odd.opt:11:1: warning: RESERVE: feature sim version 9.9 is not in the licence (or not served by the gateway); line ignored
  # options_odd.opt:13:1: warning: qualifier ASSET_INFO on MAX is not supported; the line applies to every pool of sim
  # options_odd.opt:23:1: warning: MAX_BORROW_HOURS 5: the licence does not allow borrowing acme sim v6.0; nothing to limit
  vendor  = "acme"
  version = "6.0"
  seats   = 2
  expiry  = "2028-12-31"

  queue {}

  max {
    seats = 4
    group = "g1"
  }

  max {
    seats = 1
    user  = "bob"
  }
}

feature "mesh" {
  # pooling.lic:11:1: info: signature kept but not verified (verifying needs the vendor's keys)
  # pooling.lic:11:1: info: 2 lines pooled into 7 seats of acme mesh v2.0
  # pooling.lic:11:1: warning: the pooled lines differ in BORROW, START; the gateway keeps one value per pool and takes the most restrictive (earliest expiry, latest start, shortest borrow)
  # pooling.lic:12:1: info: signature kept but not verified (verifying needs the vendor's keys)
  # options_odd.opt:17:1: warning: GROUP nosuch is not defined in the options file; imported as an empty group
  # options_odd.opt:18:1: warning: EXCLUDE_BORROW not honoured: the gateway has no separate borrowing policy; INCLUDE/EXCLUDE apply to borrowing too
  # options_odd.opt:22:1: info: MAX_BORROW_HOURS 200 does not lower the licence's BORROW of 24h for acme mesh v2.0
  vendor  = "acme"
  version = "2.0"
  seats   = 7
  start   = "2026-03-01"
  expiry  = "2027-12-31"

  queue {}

  borrow {
    max = "24h"
  }

  include {
    displays = [":0"]
    internet = ["10.1.*.*"]
    projects = ["apollo"]
  }

  exclude {
    groups = ["nosuch"]
  }
}

feature "sim" {
  # pooling.lic:15:1: info: signature kept but not verified (verifying needs the vendor's keys)
  # options_odd.opt:11:1: warning: RESERVE: feature sim version 9.9 is not in the licence (or not served by the gateway); line ignored
  # options_odd.opt:13:1: warning: qualifier ASSET_INFO on MAX is not supported; the line applies to every pool of sim
  # options_odd.opt:23:1: warning: MAX_BORROW_HOURS 5: the licence does not allow borrowing beta sim v5.0; nothing to limit
  vendor  = "beta"
  version = "5.0"
  seats   = 1
  expiry  = "permanent"

  queue {}

  reserve {
    seats = 1
    user  = "alice"
  }

  max {
    seats = 4
    group = "g1"
  }

  max {
    seats = 1
    user  = "bob"
  }
}
