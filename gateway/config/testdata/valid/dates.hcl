feature "leap_day" {
  seats  = 1
  start  = "2024-02-29"
  expiry = "2024-02-29"
}

feature "year_end" {
  seats  = 1
  expiry = "2027-12-31"
}

feature "offset" {
  seats  = 1
  start  = "2026-03-01T08:30:00+02:00"
  expiry = "2026-03-01T23:59:59.5Z"
}

feature "permanent" {
  seats  = 0
  expiry = "permanent"
}
