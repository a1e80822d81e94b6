# licensegw configuration imported from:
#   duplicates.lic
# Licence signatures are kept in the source files but are NOT verified.
#
# Import notes:
#   duplicates.lic: info: no SERVER line: the gateway's flexlm plugin listens where its own configuration says
#   duplicates.lic:3:1: warning: FEATURE dup (vendor acme) already defined at duplicates.lic:2:1; FlexLM uses the first, this line is ignored
#   duplicates.lic:4:1: warning: FEATURE dup (vendor acme) already defined at duplicates.lic:2:1; FlexLM uses the first, this line is ignored
#   duplicates.lic:5:1: warning: VENDOR acme already declared at duplicates.lic:1:1; this line is ignored

feature "dup" {
  # duplicates.lic:2:1: info: signature kept but not verified (verifying needs the vendor's keys)
  vendor  = "acme"
  version = "1.0"
  seats   = 3
  expiry  = "permanent"

  queue {}
}
