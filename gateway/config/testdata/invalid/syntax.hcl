feature "cad" {
  seats =
}
