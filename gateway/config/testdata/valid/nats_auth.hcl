nats {
  audit_credentials = "creds/audit.nk"

  identity "siem" {
    nkey   = "UDNRT2ROAVL64OGKZSRCOCBWVE4MEDSO3TAAMQA7BZ7X2HJG2H3IK7PQ"
    access = "read"
  }
  identity "backup" {
    nkey   = "UBJQT66R2FIRJHXDNRZT7XAV5FIGTPXZB5QEDQPOJNPHQO77RP6VJAKX"
    access = "write"
  }

  # Any readable file passes the decoder; the gateway reads them at start.
  tls {
    cert_file = "plugins.hcl"
    key_file  = "plugins.hcl"
  }
}
