nats {
  url = "nats://nats.example.com:4222"
  identity "siem" {
    nkey   = "UDNRT2ROAVL64OGKZSRCOCBWVE4MEDSO3TAAMQA7BZ7X2HJG2H3IK7PQ"
    access = "read"
  }
}
