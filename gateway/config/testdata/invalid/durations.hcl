feature "short" {
  seats     = 1
  lease_ttl = "4s"
}

feature "words" {
  seats     = 1
  lease_ttl = "10 minutes"
}

feature "negative" {
  seats     = 1
  lease_ttl = -5
}

feature "queue" {
  seats = 1
  queue {
    max_length = 0
    max_wait   = "0s"
  }
}

feature "borrow" {
  seats = 1
  borrow {
  }
}

feature "typed" {
  seats     = 1
  lease_ttl = true
}
