feature "negative" {
  seats = -1
}

feature "fraction" {
  seats = 1.5
}

feature "missing" {
  vendor = "acme"
}

feature "text" {
  seats = "ten"
}

feature "null" {
  seats = null
}
