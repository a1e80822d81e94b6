feature "double_dot" {
  seats   = 1
  version = "1..2"
}

feature "number" {
  seats   = 1
  version = 2.10
}

feature "space" {
  seats   = 1
  version = "1 beta"
}

feature "letters" {
  seats   = 1
  version = "v2.1b"
}
