# licensegw configuration imported from:
#   year0.lic
# Licence signatures are kept in the source files but are NOT verified.
#
# Import notes:
#   year0.lic: info: no SERVER line: the gateway's flexlm plugin listens where its own configuration says

feature "a" {
  # year0.lic:2:1: info: signature kept but not verified (verifying needs the vendor's keys)
  vendor  = "acme"
  version = "1.0"
  seats   = 5
  expiry  = "permanent"

  queue {}
}

feature "b" {
  # year0.lic:3:1: info: signature kept but not verified (verifying needs the vendor's keys)
  vendor  = "acme"
  version = "1.0"
  seats   = 5
  expiry  = "permanent"

  queue {}
}

feature "c" {
  # year0.lic:4:1: info: signature kept but not verified (verifying needs the vendor's keys)
  vendor  = "acme"
  version = "1.0"
  seats   = 5
  expiry  = "permanent"

  queue {}
}

feature "d" {
  # year0.lic:5:1: info: signature kept but not verified (verifying needs the vendor's keys)
  vendor  = "acme"
  version = "1.0"
  seats   = 5
  expiry  = "permanent"

  queue {}
}

feature "e" {
  # year0.lic:6:1: info: signature kept but not verified (verifying needs the vendor's keys)
  vendor  = "acme"
  version = "1.0"
  seats   = 5
  expiry  = "2028-02-29"

  queue {}
}

feature "f" {
  # year0.lic:7:1: info: signature kept but not verified (verifying needs the vendor's keys)
  vendor  = "acme"
  version = "1.0"
  seats   = 5
  expiry  = "2030-01-01"

  queue {}
}
