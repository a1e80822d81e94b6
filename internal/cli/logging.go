package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/gateway/config"
)

// newLogger is the daemon's root logger on stderr. level and format are
// the configuration's (gateway { log_level, log_format }); LICENSEGW_LOG
// and LICENSEGW_LOG_FORMAT override them, so that an operator can turn on
// debug logs or JSON without editing the file.
func newLogger(e *env, level, format string) (hclog.Logger, error) {
	if v := e.getenv("LICENSEGW_LOG"); v != "" {
		level = strings.ToLower(v)
		if !slices.Contains(config.LogLevels(), level) {
			return nil, fmt.Errorf("LICENSEGW_LOG=%s is not one of %s", v, strings.Join(config.LogLevels(), ", "))
		}
	}
	if v := e.getenv("LICENSEGW_LOG_FORMAT"); v != "" {
		format = strings.ToLower(v)
		if !slices.Contains(config.LogFormats(), format) {
			return nil, fmt.Errorf("LICENSEGW_LOG_FORMAT=%s is not one of %s", v, strings.Join(config.LogFormats(), ", "))
		}
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:       "licensegw",
		Level:      hclog.LevelFromString(level),
		Output:     e.stderr,
		JSONFormat: format == "json",
	}), nil
}
