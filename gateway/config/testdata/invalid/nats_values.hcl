nats {
  listen   = "4222"
  replicas = 3
  prefix   = "licensegw.>"
  stream   = "LICENSEGW.EVENTS"
  max_msgs = -5
}
