// Package rsv reads Sentinel-style reservation files and maps them onto the
// core's policy model.
//
// A reservation file has one reservation per line,
//
//	feature[,version]:group:count:member member ...
//
// where a member is a user or host name and "!name" excludes someone from
// the group. '#' starts a comment; blank lines are ignored. Parse reports
// errors as file:line:col.
//
// Convert turns a parsed file into a Policy, and Policy.Set into the neutral
// policy model the sentinel plugin's importer returns to the gateway: each
// line becomes a policy.Reservation of count seats for the user group named
// on the line, on every configured feature of that name (and version, when
// the line names one), and each group adds its names to the groups of its
// name. See Convert for how host names and exclusions are represented.
package rsv
