nats {
  embedded = false
  replicas = 3
}
