// Package optfile parses FlexLM-style options files: the GROUP and
// HOST_GROUP definitions and the per-feature policy lines (RESERVE, MAX,
// INCLUDE, EXCLUDE and their ALL forms, TIMEOUT, LINGER, borrowing and
// logging controls).
//
// Like FlexLM, GROUP (and HOST_GROUP) lines of the same name accumulate
// their members. Lines the parser does not know are kept as Other so an
// importer can report them rather than drop them.
package optfile
