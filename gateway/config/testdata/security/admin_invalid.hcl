admin {
  token "plain" {
    sha256 = "lgw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    scope  = "read"
  }
  token "short" {
    sha256 = "abc123"
    scope  = "read"
  }
  token "root" {
    sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    scope  = "admin"
  }
  token "admin" {
    sha256 = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
    scope  = "write"
  }
  token "ops" {
    sha256 = "fd61a03af4f77d870fc21e05e7e80678095c92d808cfb3b5c279ee04c74aca13"
    scope  = "write"
  }
  token "ops" {
    sha256 = "a4e624d686e03ed2767c0abd85c14426b0b1157d2ce81d27bb4fe4f6f01d688a"
    scope  = "read"
  }
  token "twin" {
    sha256 = "fd61a03af4f77d870fc21e05e7e80678095c92d808cfb3b5c279ee04c74aca13"
    scope  = "read"
  }
  token "late" {
    sha256  = "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1"
    scope   = "read"
    expires = "someday"
  }
  tls {
    cert_file = "tls/missing.crt"
    key_file  = "tls/admin.key"
  }
}
