// Package lmstat prints licence-server status in the exact layout of
// FlexLM's `lmutil lmstat`, which monitoring scripts, exporters and
// schedulers parse. It is pure formatting: the caller fills a Status.
//
// The layout rules that parsers depend on (two spaces after "Users of
// NAME:", the singular "1 license", reservation lines starting with a tab,
// versions with a leading "v") are kept exactly; see
// docs/flexlm.md and the golden files in testdata.
package lmstat
