gateway {
  name = env()
}

admin {
  listen = env("A", "b", "c")
}

feature "cad" {
  seats = getenv("SEATS")
}
