gateway {
  data_dir  = "/srv/licensegw"
  log_level = "trace"
  log_format = "json"
}

admin {
  listen = ""
}

nats {
  embedded = true
  listen   = ""
}
