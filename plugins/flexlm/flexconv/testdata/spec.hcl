# licensegw configuration imported from:
#   spec.lic
#   spec.opt
# Licence signatures are kept in the source files but are NOT verified.
#
# Import notes:
#   spec.lic:2:1: info: SERVER gw-01 host id 0050568F1A2B is not checked by the gateway
#   spec.lic:2:1: info: SERVER port 27000: the flexlm plugin's "lmgrd" listener (default :27000) should listen on it
#   spec.lic:3:1: warning: 2 SERVER lines (a redundant server set): licensegw does not do FlexLM three-server redundancy; run one gateway, or several sharing a NATS cluster
#   spec.lic:3:1: info: SERVER port 27000: the flexlm plugin's "lmgrd" listener (default :27000) should listen on it
#   spec.lic:3:1: info: PRIMARY_IS_MASTER and HEARTBEAT_INTERVAL concern server redundancy and are ignored
#   spec.lic:4:1: info: VENDOR acme port 27100: the flexlm plugin's "vendor" listener (default :27100) should listen on it
#   spec.lic:4:1: info: VENDOR acme names options file /etc/licensegw/acme.opt: import it with --options
#   spec.lic:5:1: info: USE_SERVER: clients are served by the gateway; the line has no further effect
#   spec.lic:10:1: warning: FEATURE viewer v1.0 is uncounted (node-locked to HOSTID=ANY): it is not served by a floating gateway and was not imported
#   spec.opt:10:1: warning: TIMEOUTALL 7200s not honoured: FlexLM reclaims licences idle that long, while the gateway reclaims a seat when its client stops heartbeating for lease_ttl; mapping it to lease_ttl would keep crashed clients' seats that long, so lease_ttl is left at its default
#   spec.opt:14:1: warning: NOLOG QUEUED not honoured: every state change is an event in the gateway's journal

group "designers" {
  users = ["alice", "bob", "carol"]
}

host_group "lab" {
  hosts = ["ws-01", "ws-02"]
}

feature "cad_pro" {
  # spec.lic:6:1: info: signature kept but not verified (verifying needs the vendor's keys)
  # spec.lic:6:1: info: 2 lines pooled into 15 seats of acme cad_pro v2024.1
  # spec.lic:6:1: warning: the pooled lines differ in BORROW, START; the gateway keeps one value per pool and takes the most restrictive (earliest expiry, latest start, shortest borrow)
  # spec.lic:6:1: warning: only some pooled lines allow BORROW; borrowing is not enabled for the pool
  # spec.lic:7:1: info: signature kept but not verified (verifying needs the vendor's keys)
  # spec.lic:7:1: info: ISSUER kept as metadata only
  # spec.lic:7:45: warning: DUP_GROUP=UH not honoured: every checkout takes its own seats (no sharing of a seat by the same user/host/display)
  # spec.opt:9:1: warning: TIMEOUT 3600s not honoured: FlexLM reclaims licences idle that long, while the gateway reclaims a seat when its client stops heartbeating for lease_ttl; mapping it to lease_ttl would keep crashed clients' seats that long, so lease_ttl is left at its default
  # spec.opt:11:1: warning: LINGER 60s not honoured: a checked-in seat is freed at once
  # spec.opt:12:1: warning: MAX_BORROW_HOURS 72: the licence does not allow borrowing acme cad_pro v2024.1; nothing to limit
  # spec.opt:13:1: warning: BORROW_LOWWATER 3 not honoured: the gateway does not keep seats back from borrowing
  vendor  = "acme"
  version = "2024.1"
  seats   = 15
  start   = "2026-01-01"
  expiry  = "2027-12-31"

  queue {}

  reserve {
    seats = 2
    group = "designers"
  }

  max {
    seats = 1
    user  = "dave"
  }

  include {
    groups = ["designers"]
  }

  exclude {
    users = ["mallory"]
    hosts = ["kiosk-01"]
  }
}

feature "solver" {
  # spec.lic:9:1: info: signature kept but not verified (verifying needs the vendor's keys)
  # spec.lic:9:39: warning: VENDOR_STRING="tier=gold" not passed to clients: applications that read it will not see it
  vendor  = "acme"
  version = "3.0"
  seats   = 2
  expiry  = "permanent"

  queue {}

  include {
    groups      = ["designers"]
    host_groups = ["lab"]
  }

  exclude {
    hosts = ["kiosk-01"]
  }
}
