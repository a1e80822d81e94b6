package node

import (
	"context"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
	"github.com/licensegw/licensegw/gateway/metrics"
	"github.com/licensegw/licensegw/gateway/seats"
)

// expiryCheckEvery is how often the node looks for licences that enter
// their warning period; an expiring pool is announced again every
// expiryRepeat while it stays expiring.
const (
	expiryCheckEvery = time.Hour
	expiryRepeat     = 24 * time.Hour
)

// expiryWarning is the configured warning period; 0 turns warnings off.
func (n *Node) expiryWarning() time.Duration {
	n.cfgMu.Lock()
	defer n.cfgMu.Unlock()
	return n.cfg.Gateway.ExpiryWarning
}

// watchExpiry announces expiring licences at start, every hour, and after
// every reload, until done is closed.
func (n *Node) watchExpiry(done <-chan struct{}) {
	t := time.NewTicker(expiryCheckEvery)
	defer t.Stop()
	for {
		n.checkExpiry(context.Background(), time.Now())
		select {
		case <-done:
			return
		case <-t.C:
		case <-n.expiryKick:
		}
	}
}

// checkExpiry publishes an `expiring` lifecycle message (and logs a
// warning) for every pool within its warning period that was not announced
// in the last day.
func (n *Node) checkExpiry(ctx context.Context, now time.Time) {
	warn := n.expiryWarning()
	if warn <= 0 {
		return
	}
	for _, ps := range n.ledger.StatusOf(nil, false) {
		f := ps.Feature
		if !metrics.Expiring(f.Expiry, now, warn) {
			continue
		}
		key := seats.PoolKey{Vendor: f.Vendor, Name: f.Name, Version: f.Version}
		n.expiryMu.Lock()
		last, seen := n.announced[key]
		due := !seen || now.Sub(last) >= expiryRepeat
		if due {
			n.announced[key] = now
		}
		n.expiryMu.Unlock()
		if !due {
			continue
		}
		days := int(f.Expiry.Sub(now).Hours() / 24)
		n.log.Warn("licence expiring", "vendor", f.Vendor, "feature", f.Name, "version", f.Version,
			"expiry", f.Expiry.UTC().Format(time.RFC3339), "days_left", days)
		n.lifecycle(ctx, events.GatewaySubject(n.journal.Prefix(), "expiring"), map[string]any{
			"vendor": f.Vendor, "feature": f.Name, "version": f.Version,
			"expiry": f.Expiry.UTC().Format(events.TimeLayout), "days_left": days,
			"warning_days": int(warn.Hours() / 24),
		})
	}
}

// announceExpiryAgain makes the next check announce every expiring pool
// (after a reload: the expiries may have changed).
func (n *Node) announceExpiryAgain() {
	n.expiryMu.Lock()
	clear(n.announced)
	n.expiryMu.Unlock()
	select {
	case n.expiryKick <- struct{}{}:
	default:
	}
}
