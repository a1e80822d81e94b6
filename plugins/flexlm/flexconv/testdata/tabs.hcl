# licensegw configuration imported from:
#   tabs.lic
# Licence signatures are kept in the source files but are NOT verified.
#
# Import notes:
#   tabs.lic:1:1: info: SERVER port 27000: the flexlm plugin's "lmgrd" listener (default :27000) should listen on it
#   tabs.lic:2:1: info: VENDOR acme port 27100: the flexlm plugin's "vendor" listener (default :27100) should listen on it

feature "tabbed" {
  # tabs.lic:3:1: info: signature kept but not verified (verifying needs the vendor's keys)
  # tabs.lic:3:1: info: 2 lines pooled into 6 seats of acme tabbed v1.5
  # tabs.lic:4:2: info: signature kept but not verified (verifying needs the vendor's keys)
  vendor  = "acme"
  version = "1.5"
  seats   = 6
  expiry  = "permanent"

  queue {}
}
