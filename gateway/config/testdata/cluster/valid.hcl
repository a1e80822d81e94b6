gateway {
  name = "gw2"
}

nats {
  listen = "127.0.0.1:4232"
  cluster {
    name     = "licensegw"
    listen   = "127.0.0.1:6232"
    routes   = ["nats-route://127.0.0.1:6222", "127.0.0.1:6232", " nats-route://127.0.0.1:6242 "]
    password = env("LICENSEGW_TEST_ROUTE_PASSWORD")
    advertise = "192.0.2.7:16232"
  }
}
