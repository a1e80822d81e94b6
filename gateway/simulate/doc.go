// Package simulate replays the demand recorded in the journal through the
// real accounting engine (gateway/seats) under another configuration, and
// says what would have happened: how many requests would have been granted,
// queued or denied, and how long queues would have made people wait, per
// feature, next to what did happen.
//
// The demand is read from the events: every checkout request (a grant, a
// borrow, a denial or a queueing), who asked (user, host, display, project,
// address, protocol: policies match on them), how many seats, how long a
// queued request was willing to wait, and how long each granted lease was
// held. The simulation issues the same requests at the same times, and ends
// each lease the simulation granted when the recorded lease ended. A
// request the record denied has no recorded hold time: if the simulation
// grants it, it holds its seats for the median hold time of its feature's
// recorded leases (DefaultHold when there are none).
//
// Leases in the simulation live until their recorded end (their TTL is set
// beyond the range): the record already says when each ended, whether by a
// checkin, an expiry or a removal.
//
// What the record cannot say is not invented: a denied request is replayed
// without a wait (the record does not say whether it would have queued), and
// with the version it was denied at as its minimum version. Simulating under
// the configuration that was in force reproduces the recorded grants,
// queueings and denials; a property test checks it.
package simulate
