gateway {
  name     = env("LICENSEGW_TEST_NAME")
  data_dir = env("LICENSEGW_TEST_UNSET", "/var/lib/licensegw")
}

nats {
  url = "nats://${env("LICENSEGW_TEST_NATS_HOST")}:4222"
}

feature "cad" {
  vendor    = env("LICENSEGW_TEST_EMPTY", "acme")
  seats     = env("LICENSEGW_TEST_SEATS")
  lease_ttl = env("LICENSEGW_TEST_TTL")
}
