# licensegw configuration imported from:
#   uncounted.lic
# Licence signatures are kept in the source files but are NOT verified.
#
# Import notes:
#   uncounted.lic:3:1: warning: FEATURE nl v1.0 is uncounted (node-locked to HOSTID=0050568F1A2B): it is not served by a floating gateway and was not imported
#   uncounted.lic:4:1: warning: FEATURE zero v1.0 is uncounted (node-locked to HOSTID=ANY): it is not served by a floating gateway and was not imported
#   uncounted.lic:5:1: warning: FEATURE nohost v1.0 is uncounted (node-locked to HOSTID=): it is not served by a floating gateway and was not imported
#   uncounted.lic:5:35: warning: uncounted FEATURE nohost has no HOSTID; FlexLM requires one for node-locked licences

feature "counted" {
  # uncounted.lic:6:1: info: signature kept but not verified (verifying needs the vendor's keys)
  # uncounted.lic:6:38: warning: HOSTID=0050568F1A2B is not checked: the gateway serves the seats to any host its policy admits
  vendor  = "acme"
  version = "1.0"
  seats   = 2
  expiry  = "permanent"

  queue {}
}
