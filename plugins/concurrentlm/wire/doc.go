// Package wire is the line codec of the concurrent-lm protocol (CLM/1).
//
// A message is one line: a verb (case-insensitive) followed by key=value
// pairs whose values are bare tokens or double-quoted strings with \" and \\
// as the only escapes. ParseLine decodes a request into a Request without
// allocating beyond the one string conversion the caller makes of the line;
// the Append functions format responses into a caller-owned buffer, in the
// style of strconv.Append*. ParseMessage decodes any line (responses and
// EVENTs included) for clients, where a few allocations do not matter.
package wire
