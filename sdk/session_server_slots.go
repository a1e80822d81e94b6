package sdk

import (
	pb "github.com/licensegw/licensegw/sdk/proto"
)

// answerSlot is the memory of one answer a session sends on the data
// plane, with the callbacks of the asynchronous request it answers, made
// once per slot: a slot serves request after request, so that a checkout,
// a heartbeat or a checkin answered from one costs the session no
// allocation.
//
// Who owns a slot, and when:
//   - the session's reader takes it from the free list (takeSlot) for one
//     request, and sets id;
//   - the answer is built in it by whoever answers (the AsyncSeats'
//     callback, onCheckout or onCheckin, on the journal's goroutine; the
//     reader for a heartbeat), which then queues it with the answer
//     (respond) and touches it no more;
//   - whoever writes the frame carrying the answer puts it back on the
//     free list once Send returns (flushLocked, under the session's lock).
//
// Putting a slot back once Send returns is sound only where Send is done
// with the frame when it returns: the data plane marshals the frame into
// its own buffer (frameConn.write) before writing it. A gRPC stream may
// keep the message after SendMsg (stats handlers may read it lazily), so a
// session on gRPC recycles nothing: its requests share one slot that is
// never put back and holds no answer (pooled false), and their answers are
// allocated as before. A slot whose answer is not sent (the session ended;
// undo reads the answer) is never put back either.
type answerSlot struct {
	ss      *session
	release func() // the session's: the request's answer is queued
	pooled  bool   // the slot's memory holds answers and is reused

	id uint64 // the request it answers now (reader, then the answerer)

	// Made once, with the slot.
	onCheckout func(*Checkout, error)
	onCheckin  func(error)

	grant grantAnswer
	state leaseStateAnswer
	plain pb.Response
}

// maxFreeSlots bounds the slots a session keeps for reuse: more than the
// answers in flight on a busy session, far fewer than maxInflight.
const maxFreeSlots = 1024

// takeSlot returns a slot for the next request. Only the reader calls it.
func (ss *session) takeSlot(release func()) *answerSlot {
	if !ss.recycles {
		if ss.shared == nil {
			ss.shared = &answerSlot{ss: ss, release: release}
		}
		return ss.shared
	}
	ss.mu.Lock()
	if n := len(ss.free); n > 0 {
		s := ss.free[n-1]
		ss.free[n-1] = nil
		ss.free = ss.free[:n-1]
		ss.mu.Unlock()
		return s
	}
	ss.mu.Unlock()
	s := &answerSlot{ss: ss, release: release, pooled: true}
	s.onCheckout = s.checkoutDone
	s.onCheckin = s.checkinDone
	return s
}

// putSlotLocked puts s back on the free list: nothing refers to its answer
// any more. ss.mu is held.
func (ss *session) putSlotLocked(s *answerSlot) {
	if s.pooled && len(ss.free) < maxFreeSlots {
		ss.free = append(ss.free, s)
	}
}

// recycled reports whether answers are built in s.
func (s *answerSlot) recycled() bool { return s.pooled }

// queued is s as respond takes it: nil for a slot that is not pooled.
func (s *answerSlot) queued() *answerSlot {
	if !s.pooled {
		return nil
	}
	return s
}

// checkoutDone answers the checkout s holds: AsyncSeats.CheckoutAsync's
// callback. After respondAsync, s may serve the next request already: only
// what never changes (ss, release) is read after it.
func (s *answerSlot) checkoutDone(c *Checkout, err error) {
	var resp *pb.Response
	var updates <-chan TicketUpdate
	if err == nil && c != nil && c.Outcome == Granted && c.Grant != nil {
		resp = s.grant.fill(c)
	} else {
		resp, updates = checkoutResponse(c, err)
	}
	ss, release := s.ss, s.release
	ss.respondAsync(s.id, resp, updates, s)
	release()
}

// checkinDone answers the checkin s holds: AsyncSeats.CheckinAsync's
// callback; as checkoutDone.
func (s *answerSlot) checkinDone(err error) {
	s.plain = pb.Response{}
	if err != nil {
		s.plain.Error = errorToPB(err)
	}
	ss, release := s.ss, s.release
	ss.respondAsync(s.id, &s.plain, nil, s)
	release()
}
