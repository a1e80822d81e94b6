package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"
)

// ErrSubject is returned by PublishLifecycle for a subject outside the
// plugins and gateway subjects of the journal's prefix.
var ErrSubject = errors.New("journal: not a lifecycle subject")

// PublishLifecycle publishes a plugin or gateway lifecycle message (plugin
// started/exited, gateway started/stopped/reloaded) and waits for the
// stream's ack. subject is a full subject, as built by events.PluginSubject
// or events.GatewaySubject with j.Prefix(); payload is encoded as JSON. The
// message gets a fresh ULID as its Nats-Msg-Id.
//
// Lifecycle messages go to the lifecycle stream (events.LifecycleStream),
// not the journal: every append to the journal is fenced, and a message
// from elsewhere would break it.
func (j *Journal) PublishLifecycle(ctx context.Context, subject string, payload any) error {
	if !strings.HasPrefix(subject, j.cfg.Prefix+".plugins.") && !strings.HasPrefix(subject, j.cfg.Prefix+".gateway.") &&
		!strings.HasPrefix(subject, j.cfg.Prefix+".cluster.") {
		return fmt.Errorf("%w: %q", ErrSubject, subject)
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("journal: encode %s: %w", subject, err)
	}
	msg := &nats.Msg{
		Subject: subject,
		Data:    data,
		Header:  nats.Header{jetstream.MsgIDHeader: []string{ulid.Make().String()}},
	}
	if _, err := j.link.Load().js.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("journal: publish %s: %w", subject, err)
	}
	return nil
}
