import "flexlm" {
  license_file = "acme.lic"
  options_file = "acme.opt"
}

import "sentinel_reservations" {
  file = "sentinel.rsv"
}
