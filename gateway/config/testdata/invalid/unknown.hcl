gateway {
  nmae = "gw-01"
}

featur "cad" {
  seats = 1
}

feature "cad" {
  seats = 1
  queue {
    length = 5
  }
}
