package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseTime reads a --since or --until value relative to now: a duration
// back from now ("30d", "12h", "90m", "2w"), a date ("2026-11-01", midnight
// UTC) or an RFC 3339 time. "" is the zero time.
func ParseTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%w: %q is not a duration back from now (30d, 12h), a date (2026-11-01) or an RFC 3339 time", ErrQuery, s)
}

// ParseDuration reads Go durations and also days ("30d") and weeks ("2w").
func ParseDuration(s string) (time.Duration, error) {
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil || v < 0 || v > 100*365 {
				return 0, fmt.Errorf("%w: bad duration %q", ErrQuery, s)
			}
			return time.Duration(v * float64(unit)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%w: bad duration %q", ErrQuery, s)
	}
	return d, nil
}

// ParseBy reads a comma-separated --by list.
func ParseBy(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, b := range strings.Split(s, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}
