# licensegw configuration imported from:
#   quoted.lic
# Licence signatures are kept in the source files but are NOT verified.
#
# Import notes:
#   quoted.lic: info: no SERVER line: the gateway's flexlm plugin listens where its own configuration says

feature "q" {
  # quoted.lic:2:1: info: signature kept but not verified (verifying needs the vendor's keys)
  # quoted.lic:2:1: info: NOTICE, ISSUER, SN, ISSUED, ck kept as metadata only
  # quoted.lic:3:25: warning: VENDOR_STRING="a=1 b=2" not passed to clients: applications that read it will not see it
  # quoted.lic:4:23: warning: PLATFORMS="x64_lsb i86_n" not enforced: any client platform may check out
  # quoted.lic:6:28: warning: TS_OK not honoured: the gateway does not detect terminal-server sessions
  # quoted.lic:6:34: warning: SUPERSEDE not honoured: earlier lines are not cancelled; remove them from the licence file
  # quoted.lic:6:52: warning: attribute NEW_THING not understood; ignored
  vendor      = "acme"
  version     = "1.0"
  seats       = 2
  expiry      = "permanent"
  description = "Licensed to Example Org, Site 4"

  queue {}
}
