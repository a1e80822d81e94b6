package events

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// DefaultPrefix is the subject prefix used when the configuration names none.
const DefaultPrefix = "licensegw"

// DefaultStream is the JetStream stream name used when the configuration
// names none.
const DefaultStream = "LICENSEGW_EVENTS"

// DefaultVendor is the vendor of features that name none.
const DefaultVendor = "local"

// MaxTokenBytes bounds one subject token made from a name. NATS refuses a
// protocol line longer than 4 KiB and drops the connection that sent it, so
// no name, however long, may make a subject that long; names longer than
// this are shortened (see Token).
const MaxTokenBytes = 64

// Denial reasons that decide the subject instead of the pool.
const (
	// ReasonUnknownFeature is the denial of a pool the gateway does not
	// serve. Its names are the client's, so they do not become subject
	// tokens: every such denial goes to <prefix>.events._._unknown.denied.
	ReasonUnknownFeature = "unknown-feature"
	// ReasonSuppressed marks the summary of denials that were not
	// journaled one by one (the per-source rate limit): its count is how
	// many. Subject <prefix>.events._._suppressed.denied.
	ReasonSuppressed = "suppressed"
)

// Token turns a name into one NATS subject token: bytes in [A-Za-z0-9_-] are
// kept and every other byte becomes '_'. The empty name becomes "_" so that a
// subject never has an empty token. A name longer than MaxTokenBytes becomes
// its first MaxTokenBytes-9 bytes (so converted), '_' and the first 8 hex
// digits of the SHA-256 of the whole name: still one bounded token, and
// distinct names stay apart.
func Token(name string) string {
	if name == "" {
		return "_"
	}
	clean := len(name) <= MaxTokenBytes
	for i := 0; clean && i < len(name); i++ {
		clean = tokenByte(name[i])
	}
	if clean {
		return name
	}
	keep := min(len(name), MaxTokenBytes)
	if len(name) > MaxTokenBytes {
		keep = MaxTokenBytes - 9
	}
	b := make([]byte, keep, MaxTokenBytes)
	for i := range keep {
		c := name[i]
		if !tokenByte(c) {
			c = '_'
		}
		b[i] = c
	}
	if len(name) > MaxTokenBytes {
		sum := sha256.Sum256([]byte(name))
		b = append(b, '_')
		b = hex.AppendEncode(b, sum[:4])
	}
	return string(b)
}

func tokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// Subject returns <prefix>.events.<vendor>.<feature>.<kind> for e. Denials
// of unknown features and summaries of suppressed denials use the fixed
// tokens "_" and "_unknown" or "_suppressed" instead of the names: the stream
// never gains a subject per name a client made up.
func (e *Event) Subject(prefix string) string {
	switch e.Kind {
	case TermKind:
		return prefix + ".events._journal.term"
	case SealKind:
		return prefix + ".events._journal.seal"
	}
	if e.Kind == Denied {
		switch e.Reason {
		case ReasonUnknownFeature:
			return prefix + ".events._._unknown.denied"
		case ReasonSuppressed:
			return prefix + ".events._._suppressed.denied"
		}
	}
	vendor := e.Vendor
	if vendor == "" {
		vendor = DefaultVendor
	}
	var sb strings.Builder
	sb.Grow(len(prefix) + 2*MaxTokenBytes + len(e.Kind) + 10)
	sb.WriteString(prefix)
	sb.WriteString(".events.")
	sb.WriteString(Token(vendor))
	sb.WriteByte('.')
	sb.WriteString(Token(e.Feature))
	sb.WriteByte('.')
	sb.WriteString(Token(string(e.Kind)))
	return sb.String()
}

// PluginSubject returns <prefix>.plugins.<plugin>.<what>, what being
// "started" or "exited".
func PluginSubject(prefix, plugin, what string) string {
	return prefix + ".plugins." + Token(plugin) + "." + what
}

// GatewaySubject returns <prefix>.gateway.<what>, what being "started",
// "stopped" or "reloaded".
func GatewaySubject(prefix, what string) string {
	return prefix + ".gateway." + what
}

// ClusterSubject returns <prefix>.cluster.<what>, what being one of the
// Cluster* names: a cluster's lifecycle (docs/events.md). Node names go
// in the payload, not the subject (they may contain dots).
func ClusterSubject(prefix, what string) string {
	return prefix + ".cluster." + what
}

// What a cluster lifecycle message reports (ClusterSubject).
const (
	ClusterLeaderElected     = "leader.elected"
	ClusterLeaderSteppedDown = "leader.stepped_down"
	ClusterNodeJoined        = "node.joined"
	ClusterNodeLeft          = "node.left"
)

// StreamSubjects are the subjects the event stream (the journal) captures
// for prefix: decision events only. Every append to it is fenced, so
// nothing else may be written there.
func StreamSubjects(prefix string) []string {
	return []string{prefix + ".events.>"}
}

// DefaultLifecycleStream holds the gateway, plugin and cluster lifecycle
// messages, which are not part of the journal.
const DefaultLifecycleStream = "LICENSEGW_LIFECYCLE"

// LifecycleStream is the lifecycle stream that goes with the event stream
// named events: DefaultLifecycleStream beside the default, else
// <events>_LIFECYCLE.
func LifecycleStream(events string) string {
	if events == DefaultStream {
		return DefaultLifecycleStream
	}
	return events + "_LIFECYCLE"
}

// LifecycleSubjects are the subjects the lifecycle stream captures.
func LifecycleSubjects(prefix string) []string {
	return []string{prefix + ".gateway.>", prefix + ".plugins.>", prefix + ".cluster.>"}
}
