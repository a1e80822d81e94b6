nats {
  replicas = 5
  cluster {
    name   = "lgw"
    listen = "0.0.0.0:6222"
    routes = ["h2:6222", "h3:6222"]
  }
}
