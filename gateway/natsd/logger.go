package natsd

import (
	"fmt"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats-server/v2/server"
)

// hclogAdapter implements server.Logger on top of hclog. nats-server formats
// its messages printf-style, so each one becomes a single hclog message with
// no key/value pairs.
type hclogAdapter struct {
	log   hclog.Logger
	fatal chan string // receives the first fatal message; never blocks
}

var _ server.Logger = hclogAdapter{}

func (a hclogAdapter) Noticef(format string, v ...any) { a.log.Info(fmt.Sprintf(format, v...)) }
func (a hclogAdapter) Warnf(format string, v ...any)   { a.log.Warn(fmt.Sprintf(format, v...)) }
func (a hclogAdapter) Errorf(format string, v ...any)  { a.log.Error(fmt.Sprintf(format, v...)) }
func (a hclogAdapter) Debugf(format string, v ...any)  { a.log.Debug(fmt.Sprintf(format, v...)) }
func (a hclogAdapter) Tracef(format string, v ...any)  { a.log.Trace(fmt.Sprintf(format, v...)) }

// Fatalf logs at error level and does not exit: an embedded server must not
// end the gateway's process. The failures nats-server reports this way (for
// example a port already in use) are handed to Start, which fails with them.
func (a hclogAdapter) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	a.log.Error("fatal: " + msg)
	select {
	case a.fatal <- msg:
	default:
	}
}
