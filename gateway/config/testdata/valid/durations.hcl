feature "seconds" {
  seats     = 1
  lease_ttl = 30
}

feature "fraction" {
  seats     = 1
  lease_ttl = 7.5
}

feature "string_seconds" {
  seats     = 1
  lease_ttl = "45"
}

feature "compound" {
  seats     = 3
  lease_ttl = "1h30m"
  queue {
  }
  borrow {
    max = 86400
  }
}
