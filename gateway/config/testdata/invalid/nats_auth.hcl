nats {
  identity "audit" {
    nkey   = "UDNRT2ROAVL64OGKZSRCOCBWVE4MEDSO3TAAMQA7BZ7X2HJG2H3IK7PQ"
    access = "read"
  }
  identity "seed" {
    nkey   = "SUACDZUEBEJYFEWDE665VUU2AIXDHNTKTXV7QQ7VH662U7FM6WMNAYYWRI"
    access = "read"
  }
  identity "twice" {
    nkey   = "UBJQT66R2FIRJHXDNRZT7XAV5FIGTPXZB5QEDQPOJNPHQO77RP6VJAKX"
    access = "admin"
  }
  identity "ok" {
    nkey   = "UBJQT66R2FIRJHXDNRZT7XAV5FIGTPXZB5QEDQPOJNPHQO77RP6VJAKX"
    access = "write"
  }
  identity "ok" {
    nkey   = "UDNRT2ROAVL64OGKZSRCOCBWVE4MEDSO3TAAMQA7BZ7X2HJG2H3IK7PQ"
    access = "read"
  }
  identity "nokey" {
    access = "read"
  }
}
