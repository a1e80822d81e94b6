package events

import "context"

type actorKey struct{}

// WithActor returns ctx naming who asks for an action: an admin API token's
// name, "signal:SIGHUP", "plugin:<name>" for a plugin's own administration
// (lmremove, lmreread). The events and lifecycle messages the action causes
// record it as "actor".
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// Actor is who asks, as WithActor set it, or "" when nobody said.
func Actor(ctx context.Context) string {
	s, _ := ctx.Value(actorKey{}).(string)
	return s
}
