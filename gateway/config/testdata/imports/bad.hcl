import "flexlm" {
  license_file = "missing.lic"
}

import "sentinel_reservations" {
  file = "sentinel.rsv"
}

import "rlm" {
  file = "x"
}
