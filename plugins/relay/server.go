package relay

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/sdk"
)

// The routes of keygen-relay's node API.
const (
	HealthPath  = "/v1/health"
	NodesPrefix = "/v1/nodes/"
)

// The headers of keygen-relay's node API.
const (
	PoolHeader      = "Relay-Pool"
	SignatureHeader = "Relay-Signature"
	ClockHeader     = "Relay-Clock"
)

// RequestKeyPrefix starts the request key of every claim: the rest is the
// fingerprint, so a retried PUT finds the lease it was granted.
const RequestKeyPrefix = "relay:"

// server answers the node API for one plugin instance.
type server struct {
	opts     options
	seats    sdk.Seats
	log      hclog.Logger
	now      func() time.Time
	instance string

	nodes   *nodeTable
	files   map[string]*licencePool // pools backed by licence files
	allowed map[string]bool         // pools a request may name
	limiter *ipLimiter
	meters  *meters

	lastCull atomic.Int64 // unix nanoseconds of the last cull on demand

	// Of the serve loop's goroutine alone (rescan):
	scanSig  string          // dirSignature of licenses_dir when last read
	reported map[string]bool // problems already logged
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.limiter.allow(remoteIP(r.RemoteAddr)) {
		s.meters.limited.Inc()
		s.fail(w, http.StatusTooManyRequests, "too many requests")
		return
	}
	if headerBytes(r) > s.opts.maxHeaderBytes {
		// net/http applies MaxHeaderBytes to a connection's first
		// request only (later ones on a keep-alive connection are
		// bounded by its 1 MiB default), so the limit is enforced here
		// too, and the connection closed.
		w.Header().Set("Connection", "close")
		s.fail(w, http.StatusRequestHeaderFieldsTooLarge, "request headers too large")
		return
	}
	path := r.URL.EscapedPath()
	switch {
	case path == HealthPath:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			s.fail(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		s.respond(w, http.StatusOK, nil)
	case strings.HasPrefix(path, NodesPrefix):
		s.serveNode(w, r, path[len(NodesPrefix):])
	default:
		s.fail(w, http.StatusNotFound, "not found")
	}
}

// serveNode answers PUT and DELETE of /v1/nodes/{fingerprint}; escaped is
// the fingerprint as the request line spelled it.
func (s *server) serveNode(w http.ResponseWriter, r *http.Request, escaped string) {
	if r.Method != http.MethodPut && r.Method != http.MethodDelete {
		w.Header().Set("Allow", "PUT, DELETE")
		s.fail(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	fp, err := url.PathUnescape(escaped)
	if err == nil {
		err = checkFingerprint(fp)
	}
	if err != nil {
		s.badRequest(w, err.Error())
		return
	}
	if r.ContentLength != 0 {
		// Claims and releases take no body. Closing the connection
		// spares reading one that may be large.
		w.Header().Set("Connection", "close")
		s.badRequest(w, "a "+r.Method+" of a node takes no request body")
		return
	}
	pool, msg := s.pool(r.Header)
	if msg != "" {
		s.badRequest(w, msg)
		return
	}
	// The call outlives a client that hangs up: a checkout the gateway
	// grants is then recorded here, and the client's retry finds it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.opts.callTimeout)
	defer cancel()
	if r.Method == http.MethodPut {
		s.claim(ctx, w, fp, pool, r.RemoteAddr)
	} else {
		s.release(ctx, w, fp, pool)
	}
}

// pool is the pool a request names, or a message saying why it cannot be
// served.
func (s *server) pool(h http.Header) (string, string) {
	vs := h.Values(PoolHeader)
	switch {
	case len(vs) == 0:
		return s.opts.pool, ""
	case len(vs) > 1:
		return "", "more than one " + PoolHeader + " header"
	}
	p := strings.TrimSpace(vs[0])
	if p == "" {
		return s.opts.pool, ""
	}
	if s.allowed[p] {
		return p, ""
	}
	if len(s.allowed) == 1 {
		return "", "unsupported pool header: this server is bound to pool " + s.opts.pool
	}
	if err := checkPoolName(p); err != nil {
		return "", err.Error()
	}
	return "", "invalid pool " + p
}

// claim answers PUT /v1/nodes/{fp}: a new lease (201), the node's lease
// extended (202), or why not.
func (s *server) claim(ctx context.Context, w http.ResponseWriter, fp, pool, remoteAddr string) {
	n := s.nodes.lock(fp, true)
	if n.lease != "" {
		if n.pool != pool {
			n.mu.Unlock()
			s.fail(w, http.StatusConflict, "node holds a lease in another pool")
			return
		}
		if !s.opts.heartbeats {
			n.mu.Unlock()
			s.fail(w, http.StatusConflict, "failed to claim license due to conflict")
			return
		}
		st, err := s.seats.Heartbeat(ctx, n.lease)
		if err == nil && !s.refile(ctx, n) {
			s.fail(w, http.StatusGone, "no licenses available")
			return
		}
		if err == nil {
			n.expires = st.Expires
			body := claimBody(n.lic, st.Expires, st.TTL)
			n.mu.Unlock()
			s.respond(w, http.StatusAccepted, body)
			return
		}
		if !isGone(err) {
			n.mu.Unlock()
			s.unavailable(w, "heartbeat", err)
			return
		}
		// The lease expired or an administrator removed it: the node
		// claims afresh.
		s.forget(n)
	}
	s.grant(ctx, w, n, pool, remoteAddr)
}

// refile gives a node recovered after a restart whose file is gone a
// file again; when none is free it gives the seat back, drops n and
// reports false. n stays locked when it reports true.
func (s *server) refile(ctx context.Context, n *node) bool {
	lp := s.files[n.pool]
	if lp == nil || n.lic != nil {
		return true
	}
	if n.lic, _ = lp.take(s.now()); n.lic != nil {
		return true
	}
	if err := s.seats.Checkin(ctx, n.lease); err != nil && !isGone(err) {
		s.log.Warn("checkin of a lease without a licence file failed", "lease", n.lease, "error", err)
	}
	s.forget(n)
	s.nodes.drop(n)
	return false
}

// grant checks a licence file and a seat out for n, which holds neither;
// it unlocks n.
func (s *server) grant(ctx context.Context, w http.ResponseWriter, n *node, pool, remoteAddr string) {
	var lic *licence
	if lp := s.files[pool]; lp != nil {
		var expired []*licence
		lic, expired = lp.take(s.now())
		if lic == nil && s.cullNow() {
			// Nodes whose lease the gateway has expired may still hold
			// files until the next cull: free them first.
			var more []*licence
			lic, more = lp.take(s.now())
			expired = append(expired, more...)
		}
		for _, l := range expired {
			s.log.Warn("licence file expired; it is no longer handed out", "pool", pool, "file", l.file, "licence", l.id)
		}
		if lic == nil {
			s.exhausted(ctx, w, n, pool, remoteAddr)
			return
		}
	}
	ck, err := s.seats.Checkout(ctx, s.checkoutRequest(n.fp, pool, remoteAddr, lic))
	if err != nil || ck.Outcome != sdk.Granted || ck.Grant.Feature != pool {
		if lic != nil {
			s.files[pool].put(lic)
		}
		s.nodes.drop(n)
		s.refuse(w, pool, ck, err)
		return
	}
	g := ck.Grant
	n.pool, n.lease, n.lic, n.expires = pool, g.Lease, lic, g.Expires
	body := claimBody(lic, g.Expires, g.TTL)
	n.mu.Unlock()
	s.respond(w, http.StatusCreated, body)
}

// exhausted answers a claim in a pool whose files are all handed out. The
// gateway is still asked, so that the refusal is journaled as a denial like
// any other; if it grants (the feature has more seats than valid files, a
// misconfiguration logged at start), the seat is given straight back.
func (s *server) exhausted(ctx context.Context, w http.ResponseWriter, n *node, pool, remoteAddr string) {
	s.nodes.drop(n)
	ck, err := s.seats.Checkout(ctx, s.checkoutRequest(n.fp, pool, remoteAddr, nil))
	if err == nil && ck.Outcome == sdk.Granted {
		s.log.Warn("a seat was free but no licence file: the feature has more seats than valid files", "pool", pool)
		if err := s.seats.Checkin(ctx, ck.Grant.Lease); err != nil && !isGone(err) {
			s.log.Warn("checkin of a seat without a licence file failed", "lease", ck.Grant.Lease, "error", err)
		}
		ck = &sdk.Checkout{Outcome: sdk.Denied, Denial: &sdk.Denial{Reason: "no-seats"}}
	}
	s.refuse(w, pool, ck, err)
}

func (s *server) checkoutRequest(fp, pool, remoteAddr string, lic *licence) sdk.CheckoutRequest {
	req := sdk.CheckoutRequest{
		Feature:    pool,
		Client:     sdk.Client{User: fp, Host: remoteIP(remoteAddr).String(), Addr: remoteAddr},
		RequestKey: RequestKeyPrefix + fp,
	}
	if lic != nil {
		req.Client.Display = lic.id
	}
	return req
}

// refuse answers a checkout that was not granted.
func (s *server) refuse(w http.ResponseWriter, pool string, ck *sdk.Checkout, err error) {
	switch {
	case err != nil && errors.Is(err, sdk.ErrUnavailable) || err != nil && errors.Is(err, context.DeadlineExceeded):
		s.unavailable(w, "checkout", err)
	case err != nil && errors.Is(err, sdk.ErrInvalid):
		s.badRequest(w, err.Error())
	case err != nil:
		s.log.Error("checkout failed", "pool", pool, "error", err)
		s.fail(w, http.StatusInternalServerError, "failed to claim license")
	case ck.Outcome == sdk.Granted:
		// The request key found a lease of another pool (the node's
		// state here was lost): the node must release that one first.
		s.fail(w, http.StatusConflict, "node holds a lease in another pool")
	case ck.Denial != nil && ck.Denial.Reason == "unknown-feature":
		s.badRequest(w, "invalid pool "+pool+": the gateway has no such feature")
	case ck.Denial != nil && ck.Denial.Reason == "excluded":
		s.fail(w, http.StatusForbidden, "node excluded from pool "+pool)
	case ck.Denial != nil && ck.Denial.Reason != "no-seats":
		s.fail(w, http.StatusGone, "no licenses available: "+ck.Denial.Reason)
	default:
		s.fail(w, http.StatusGone, "no licenses available")
	}
}

// release answers DELETE /v1/nodes/{fp}.
func (s *server) release(ctx context.Context, w http.ResponseWriter, fp, pool string) {
	n := s.nodes.lock(fp, false)
	if n == nil || n.lease == "" || n.pool != pool {
		if n != nil {
			n.mu.Unlock()
		}
		s.fail(w, http.StatusNotFound, "claim not found")
		return
	}
	err := s.seats.Checkin(ctx, n.lease)
	if err != nil && !isGone(err) {
		n.mu.Unlock()
		s.unavailable(w, "checkin", err)
		return
	}
	s.forget(n)
	s.nodes.drop(n)
	if err != nil { // it had expired: nothing was released
		s.fail(w, http.StatusNotFound, "claim not found")
		return
	}
	s.respond(w, http.StatusNoContent, nil)
}

// forget gives n's licence file back and clears its lease; n stays locked.
func (s *server) forget(n *node) {
	if n.lic != nil {
		s.files[n.pool].put(n.lic)
	}
	n.lease, n.lic, n.expires = "", nil, time.Time{}
}

// cullNow culls now unless it did in the last minCullGap, and reports
// whether it did: a pool out of files culls before it answers 410, without
// a flood of such claims scanning the node table for each.
func (s *server) cullNow() bool {
	now := time.Now().UnixNano()
	last := s.lastCull.Load()
	if now-last < int64(minCullGap) || !s.lastCull.CompareAndSwap(last, now) {
		return false
	}
	s.cull()
	return true
}

// minCullGap is the shortest time between two culls on demand.
const minCullGap = 50 * time.Millisecond

// cull frees the licence files of nodes whose lease expired: the gateway
// has released their seats, so their files may go to other nodes.
func (s *server) cull() {
	now := s.now()
	for _, fp := range s.nodes.expired(now) {
		n := s.nodes.lock(fp, false)
		if n == nil {
			continue
		}
		if n.lease == "" || !n.expires.Before(now) {
			n.mu.Unlock()
			continue
		}
		s.log.Debug("lease expired", "fingerprint", fp, "pool", n.pool, "lease", n.lease)
		s.forget(n)
		s.nodes.drop(n)
	}
	s.limiter.sweep()
	s.meters.nodes.Set(float64(s.nodes.count()))
	for pool, lp := range s.files {
		free, held, aside := lp.counts()
		s.meters.files(pool, free, held, aside)
	}
}

func (s *server) unavailable(w http.ResponseWriter, what string, err error) {
	s.log.Warn(what+" failed", "error", err)
	w.Header().Set("Retry-After", "1")
	s.fail(w, http.StatusServiceUnavailable, "gateway unavailable, retry")
}

func (s *server) badRequest(w http.ResponseWriter, msg string) {
	s.fail(w, http.StatusBadRequest, msg)
}

// headerBytes is the size of r's request line and headers as sent, give
// or take the spelling of line ends.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

func isGone(err error) bool {
	var g *sdk.GoneError
	return errors.As(err, &g)
}
