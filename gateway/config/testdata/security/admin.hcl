gateway { data_dir = "/srv/lgw" }
admin {
  token_file = "secrets/admin.token"
  token "dashboard" {
    sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    scope  = "read"
  }
  token "ops" {
    sha256  = "60303AE22B998861BCE3B28F33EEC1BE758A213C86C93C076DBE9F558C11C752"
    scope   = "write"
    expires = "2027-06-30"
  }
  tls {
    cert_file      = "tls/admin.crt"
    key_file       = "tls/admin.key"
    client_ca_file = "tls/ca.crt"
  }
}
