package retry

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Policy is an exponential backoff with full jitter.
type Policy struct {
	// Initial is the ceiling of the first pause; each later ceiling is
	// twice the one before, up to Max.
	Initial, Max time.Duration
	// Floor is the shortest pause (0: none). A retransmission timer sets
	// it so that an answer has time to come; reconnections leave it 0.
	Floor time.Duration
	// Do gives up after Tries attempts (0: no limit), or when the next
	// pause would end more than GiveUpAfter after the first attempt
	// started (0: never).
	Tries       uint
	GiveUpAfter time.Duration
	// Rand returns a uniform int64 in [0, n); nil is math/rand/v2.
	// Tests set it to see the schedule's bounds.
	Rand func(n int64) int64
}

// BackOff returns a fresh schedule of pauses under p, for
// backoff.WithBackOff or for calling NextBackOff directly.
func (p Policy) BackOff() backoff.BackOff {
	exp := backoff.NewExponentialBackOff()
	exp.InitialInterval = max(p.Initial, time.Nanosecond)
	exp.MaxInterval = max(p.Max, exp.InitialInterval)
	exp.Multiplier = 2
	exp.RandomizationFactor = 0 // the jitter is ours, full
	rnd := p.Rand
	if rnd == nil {
		rnd = rand.Int64N
	}
	return &fullJitter{ceilings: exp, floor: p.Floor, rand: rnd}
}

// fullJitter draws each pause uniformly below the exponential ceiling.
type fullJitter struct {
	ceilings *backoff.ExponentialBackOff
	floor    time.Duration
	rand     func(int64) int64
}

func (f *fullJitter) NextBackOff() time.Duration {
	ceiling := f.ceilings.NextBackOff()
	if ceiling == backoff.Stop {
		return backoff.Stop
	}
	if ceiling <= f.floor {
		return f.floor
	}
	return f.floor + time.Duration(f.rand(int64(ceiling-f.floor)+1))
}

func (f *fullJitter) Reset() { f.ceilings.Reset() }

// Do runs op until it succeeds, returns an error wrapped by Permanent,
// ctx ends or p's Tries or GiveUpAfter are spent, pausing under p between
// attempts; it returns op's last error. When ctx ends, the error wraps
// both ctx's cause and op's last error.
func Do[T any](ctx context.Context, p Policy, op func() (T, error)) (T, error) {
	var last error
	res, err := backoff.Retry(ctx, func() (T, error) {
		v, err := op()
		last = err
		return v, err
	}, backoff.WithBackOff(p.BackOff()), backoff.WithMaxElapsedTime(p.GiveUpAfter), backoff.WithMaxTries(p.Tries))
	if err != nil && ctx.Err() != nil && last != nil && err != last {
		return res, &ctxError{cause: err, last: last}
	}
	return res, err
}

// Sleep pauses for d or until ctx ends, reporting whether the pause ran
// out.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// ctxError is the end of a retry cut short: the context's cause, with the
// last attempt's error for the message.
type ctxError struct{ cause, last error }

func (e *ctxError) Error() string   { return e.cause.Error() + " (last: " + e.last.Error() + ")" }
func (e *ctxError) Unwrap() []error { return []error{e.cause, e.last} }

// Permanent marks err as not worth retrying: Do returns it at once.
func Permanent(err error) error { return backoff.Permanent(err) }
