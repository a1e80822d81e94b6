# Two errors: negative seats, and an attribute no feature has.
feature "cad" {
  version = "1.0"
  seats = -3
  colour = "blue"
}
