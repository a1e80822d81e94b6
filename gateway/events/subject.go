package events

import "strings"

// DefaultPrefix is the subject prefix used when the configuration names none.
const DefaultPrefix = "licensegw"

// DefaultStream is the JetStream stream name used when the configuration
// names none.
const DefaultStream = "LICENSEGW_EVENTS"

// DefaultVendor is the vendor of features that name none.
const DefaultVendor = "local"

// Token turns a name into one NATS subject token: bytes in [A-Za-z0-9_-] are
// kept and every other byte becomes '_'. The empty name becomes "_" so that a
// subject never has an empty token.
func Token(name string) string {
	if name == "" {
		return "_"
	}
	clean := true
	for i := 0; i < len(name); i++ {
		if !tokenByte(name[i]) {
			clean = false
			break
		}
	}
	if clean {
		return name
	}
	b := []byte(name)
	for i, c := range b {
		if !tokenByte(c) {
			b[i] = '_'
		}
	}
	return string(b)
}

func tokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// Subject returns <prefix>.events.<vendor>.<feature>.<kind> for e.
func (e *Event) Subject(prefix string) string {
	vendor := e.Vendor
	if vendor == "" {
		vendor = DefaultVendor
	}
	var sb strings.Builder
	sb.Grow(len(prefix) + len(vendor) + len(e.Feature) + len(e.Kind) + 10)
	sb.WriteString(prefix)
	sb.WriteString(".events.")
	sb.WriteString(Token(vendor))
	sb.WriteByte('.')
	sb.WriteString(Token(e.Feature))
	sb.WriteByte('.')
	sb.WriteString(string(e.Kind))
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

// StreamSubjects are the subjects the event stream captures for prefix.
func StreamSubjects(prefix string) []string {
	return []string{prefix + ".events.>", prefix + ".plugins.>", prefix + ".gateway.>"}
}
