# licensegw configuration imported from:
#   longcont.lic
# Licence signatures are kept in the source files but are NOT verified.
#
# Import notes:
#   longcont.lic: info: no SERVER line: the gateway's flexlm plugin listens where its own configuration says

feature "long" {
  # longcont.lic:3:1: info: signature kept but not verified (verifying needs the vendor's keys)
  # longcont.lic:3:1: info: ISSUER kept as metadata only
  vendor      = "acme"
  version     = "2.1"
  seats       = 12
  start       = "2026-01-01"
  expiry      = "2029-12-31"
  description = "issued by Acme"

  queue {}

  borrow {
    max = "72h"
  }
}

feature "oldkey" {
  # longcont.lic:12:1: info: signature kept but not verified (verifying needs the vendor's keys)
  vendor  = "acme"
  version = "1.0"
  seats   = 1
  expiry  = "permanent"

  queue {}
}
