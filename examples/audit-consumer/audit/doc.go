// Package audit is an example event consumer: it copies licensegw's events
// from JetStream into a file, one JSON object per line, exactly once.
//
// It binds a durable pull consumer, so the stream remembers how far it got.
// Each fetched batch is written, flushed and fsync'd before any of its
// messages is acknowledged: an acknowledged event is always on disk. The one
// gap left, a crash after the write and before the ack, would deliver those
// events again; on start the consumer reads the ids of the file's last lines
// and skips them, so nothing is written twice.
//
// It verifies the journal's hash chain as events arrive (verify.go) and
// stops at the first break, naming its stream sequence.
package audit
