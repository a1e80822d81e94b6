nats {
  embedded = true
  url      = "nats://nats-1:4222"
}
