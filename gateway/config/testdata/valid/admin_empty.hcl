gateway {
  data_dir  = "/srv/licensegw"
  log_level = "trace"
}

admin {
  listen = ""
}

nats {
  embedded = true
  listen   = ""
}
