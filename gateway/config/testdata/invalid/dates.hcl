feature "bad_day" {
  seats = 1
  start = "2026-02-30"
}

feature "not_leap" {
  seats  = 1
  expiry = "2027-02-29"
}

feature "backwards" {
  seats  = 1
  start  = "2027-06-01"
  expiry = "2027-05-31"
}

feature "empty_window" {
  seats  = 1
  start  = "2027-01-01T00:00:00Z"
  expiry = "2026-12-31"
}

feature "permanent_start" {
  seats = 1
  start = "permanent"
}

feature "us_date" {
  seats  = 1
  expiry = "12/31/2027"
}
