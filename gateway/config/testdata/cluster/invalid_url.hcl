nats {
  url = "nats://nats-1:4222"
  cluster {
    name   = "lgw"
    listen = "0.0.0.0:6222"
    routes = []
  }
}
