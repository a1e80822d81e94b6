# licensegw configuration imported from:
#   spec.opt
#
# Import notes:
#   spec.opt:3:1: warning: RESERVE: feature cad_pro is not in the licence (or not served by the gateway); line ignored
#   spec.opt:4:1: warning: MAX: feature cad_pro is not in the licence (or not served by the gateway); line ignored
#   spec.opt:5:1: warning: INCLUDE: feature solver is not in the licence (or not served by the gateway); line ignored
#   spec.opt:6:1: warning: EXCLUDE: feature cad_pro is not in the licence (or not served by the gateway); line ignored
#   spec.opt:9:1: warning: TIMEOUT 3600s not honoured: FlexLM reclaims licences idle that long, while the gateway reclaims a seat when its client stops heartbeating for lease_ttl; mapping it to lease_ttl would keep crashed clients' seats that long, so lease_ttl is left at its default
#   spec.opt:10:1: warning: TIMEOUTALL 7200s not honoured: FlexLM reclaims licences idle that long, while the gateway reclaims a seat when its client stops heartbeating for lease_ttl; mapping it to lease_ttl would keep crashed clients' seats that long, so lease_ttl is left at its default
#   spec.opt:11:1: warning: LINGER 60s not honoured: a checked-in seat is freed at once
#   spec.opt:12:1: warning: MAX_BORROW_HOURS: feature cad_pro is not in the licence (or not served by the gateway); line ignored
#   spec.opt:13:1: warning: BORROW_LOWWATER 3 not honoured: the gateway does not keep seats back from borrowing
#   spec.opt:14:1: warning: NOLOG QUEUED not honoured: every state change is an event in the gateway's journal

group "designers" {
  users = ["alice", "bob", "carol"]
}

host_group "lab" {
  hosts = ["ws-01", "ws-02"]
}
