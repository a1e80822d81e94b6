# licensegw configuration imported from:
#   crlf.lic
#   crlf.opt
# Licence signatures are kept in the source files but are NOT verified.
#
# Import notes:
#   crlf.lic:1:1: info: SERVER port 27000: the flexlm plugin's "lmgrd" listener (default :27000) should listen on it

group "g1" {
  users = ["alice", "bob"]
}

feature "f1" {
  # crlf.lic:4:1: info: signature kept but not verified (verifying needs the vendor's keys)
  vendor  = "acme"
  version = "1.0"
  seats   = 3
  expiry  = "2028-12-31"

  queue {}

  reserve {
    seats = 1
    group = "g1"
  }
}

feature "f2" {
  # crlf.lic:5:1: info: signature kept but not verified (verifying needs the vendor's keys)
  vendor  = "acme"
  version = "2.0"
  seats   = 7
  expiry  = "2029-06-15"

  queue {}

  max {
    seats = 2
    host  = "ws-01"
  }
}
