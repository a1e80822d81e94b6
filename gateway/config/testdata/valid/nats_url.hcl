nats {
  url         = "nats://nats-1:4222, tls://user:pw@nats-2:4222"
  credentials = "creds/gateway.creds"
  prefix      = "acme.licensegw"
  stream      = "ACME_EVENTS"
  replicas    = 3
  listen      = "127.0.0.1:5222" # ignored: not embedded
}

signing {
  enabled  = false
  key_file = "/etc/licensegw/key"
}

admin {
  enabled = false
}
