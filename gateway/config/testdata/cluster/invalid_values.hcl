nats {
  replicas = 9
  cluster {
    name     = "lgw prod"
    listen   = "6222"
    routes   = ["nats-route://h1:6222", "nats://h2:6222", "h3", "h1:6222", ":6222"]
    password = "short"
    advertise = "nowhere"
  }
}
