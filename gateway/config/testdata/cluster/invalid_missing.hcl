nats {
  cluster {
    listen = "0.0.0.0:6222"
  }
}
