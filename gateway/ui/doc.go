// Package ui is the gateway's web dashboard at /ui on the admin listener:
// every feature with its seats, use, queue and expiry, current leases with
// a remove button, recent denials and plugin health, kept live by
// server-sent events from the journal (no polling), and a usage chart per
// feature rendered on the server as SVG.
//
// Everything is served from the binary (embed): plain HTML, CSS and a small
// script, no external CDN, so it works on an offline licence server.
package ui
