gateway {
  name      = "gw 01"
  log_level = "verbose"
  data_dir  = ""
  log_format = "xml"
}

admin {
  listen = "localhost"
}

feature "cad pro" {
  seats = 1
}

feature "cad" {
  vendor = "ac=me"
  seats  = 1
}
