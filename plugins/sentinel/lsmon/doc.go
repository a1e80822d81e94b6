// Package lsmon is licensegw's lsmon: it queries a Sentinel-style server
// over the plugin's UDP protocol and prints what administrators of
// Sentinel-RMS-style licensing expect to read (specs/sentinel-formats.md):
// one Feature Information block per feature, with License Information and a
// Client Information block per token holder.
//
// Write is the formatter, pure and golden-tested; Main is the command
// (cmd/lsmon is a few lines around it).
package lsmon
