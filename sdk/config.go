package sdk

import "time"

// Schema is the schema of a plugin's config { } block. The gateway decodes
// the block with it, so configuration errors point at file:line:col.
type Schema []Attribute

// AttrType is the type of a config attribute.
type AttrType string

// The attribute types a schema may use.
const (
	String     AttrType = "string"
	Number     AttrType = "number" // an integer or a decimal
	Bool       AttrType = "bool"
	StringList AttrType = "list(string)"
	Duration   AttrType = "duration" // a string such as "90s" or "5m", or a number of seconds
)

// Attribute is one attribute of a config block.
type Attribute struct {
	Name        string
	Type        AttrType
	Required    bool
	Description string
}

// Config holds the decoded values of a plugin's config { } block, typed by
// its Schema: string, float64 (Number), bool, []string (StringList) and
// time.Duration (Duration). Attributes left out of the block are absent.
type Config struct {
	values map[string]any
}

// NewConfig wraps decoded values; the gateway and sdktest build Configs.
func NewConfig(values map[string]any) Config { return Config{values: values} }

// Has reports whether the block set name.
func (c Config) Has(name string) bool { _, ok := c.values[name]; return ok }

// Values returns the decoded values by attribute name.
func (c Config) Values() map[string]any { return c.values }

// String returns a String attribute, or def when it is absent.
func (c Config) String(name, def string) string {
	if v, ok := c.values[name].(string); ok {
		return v
	}
	return def
}

// Int returns a Number attribute as an int, or def when it is absent.
func (c Config) Int(name string, def int) int {
	if v, ok := c.values[name].(float64); ok {
		return int(v)
	}
	return def
}

// Bool returns a Bool attribute, or def when it is absent.
func (c Config) Bool(name string, def bool) bool {
	if v, ok := c.values[name].(bool); ok {
		return v
	}
	return def
}

// Strings returns a StringList attribute, or def when it is absent.
func (c Config) Strings(name string, def []string) []string {
	if v, ok := c.values[name].([]string); ok {
		return v
	}
	return def
}

// Duration returns a Duration attribute, or def when it is absent.
func (c Config) Duration(name string, def time.Duration) time.Duration {
	if v, ok := c.values[name].(time.Duration); ok {
		return v
	}
	return def
}
