package conformance

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensegw/licensegw/plugins/relay/client"
)

// Target is a server under test.
type Target struct {
	URL string // e.g. "http://127.0.0.1:6349"

	// Pool is the pool requests claim from (named in Relay-Pool when
	// NamePool is set, else the server's default). It must have exactly
	// Seats free seats, at least 2, and nothing else may use them while
	// the suite runs.
	Pool     string
	NamePool bool
	Seats    int

	// OtherPool, when set, is a second pool the same server serves; the
	// cross-pool cases run only then.
	OtherPool string

	TTL   time.Duration // the lease TTL the server applies
	Files bool          // claims return licence files (not null)

	// Secret is the shared signing secret when the server signs; nil
	// skips the signature case.
	Secret []byte

	// Expiry, when set, runs the TTL case: it waits out the TTL (plus the
	// server's cull interval), so give it only with a short TTL.
	Expiry bool
	// CullWithin is how long after the TTL the server may take to free an
	// expired node's seat (its cull interval); default 1 s.
	CullWithin time.Duration

	HTTP *http.Client // default: a client of its own
}

// Run runs every case as a subtest of t, in order; each releases what it
// claimed.
func Run(t *testing.T, tg Target) {
	if tg.Seats < 2 {
		t.Fatalf("conformance: the target needs at least 2 free seats, has %d", tg.Seats)
	}
	if tg.HTTP == nil {
		tg.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if tg.CullWithin == 0 {
		tg.CullWithin = time.Second
	}
	s := &suite{tg: tg}
	for _, c := range []struct {
		name string
		run  func(*testing.T)
		skip bool
	}{
		{"health", s.health, false},
		{"claim_new", s.claimNew, false},
		{"claim_heartbeat", s.claimHeartbeat, false},
		{"claim_exhausted", s.claimExhausted, false},
		{"release", s.release, false},
		{"release_unknown", s.releaseUnknown, false},
		{"retried_claim_one_seat", s.retriedClaim, false},
		{"pool_header", s.poolHeader, false},
		{"cross_pool", s.crossPool, tg.OtherPool == ""},
		{"signature", s.signature, tg.Secret == nil},
		{"ttl_expiry", s.expiry, !tg.Expiry},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.skip {
				t.Skip("the target does not offer what this case needs")
			}
			c.run(t)
		})
	}
}

type suite struct {
	tg    Target
	mu    sync.Mutex
	count int
}

// answer is an HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// fp returns a fingerprint no other case uses.
func (s *suite) fp(what string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count++
	return fmt.Sprintf("conformance-%s-%d-%d", what, time.Now().UnixNano(), s.count)
}

func (s *suite) send(t *testing.T, method, path, pool string) answer {
	t.Helper()
	req, err := http.NewRequest(method, s.tg.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pool != "" {
		req.Header.Set("Relay-Pool", pool)
	}
	resp, err := s.tg.HTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

func (s *suite) pool() string {
	if s.tg.NamePool {
		return s.tg.Pool
	}
	return ""
}

func (s *suite) put(t *testing.T, fp string) answer {
	t.Helper()
	return s.send(t, http.MethodPut, "/v1/nodes/"+url.PathEscape(fp), s.pool())
}

func (s *suite) del(t *testing.T, fp string) answer {
	t.Helper()
	return s.send(t, http.MethodDelete, "/v1/nodes/"+url.PathEscape(fp), s.pool())
}

// releaseAll releases fps at the end of a case.
func (s *suite) releaseAll(t *testing.T, fps ...string) {
	t.Helper()
	for _, fp := range fps {
		if a := s.del(t, fp); a.status != http.StatusNoContent && a.status != http.StatusNotFound {
			t.Errorf("cleanup: release %s: %d %s", fp, a.status, a.body)
		}
	}
}

// wantStatus fails unless a has status.
func wantStatus(t *testing.T, what string, a answer, status int) {
	t.Helper()
	if a.status != status {
		t.Fatalf("%s: %d %s, want %d", what, a.status, a.body, status)
	}
}

// wantError fails unless a is status with a JSON {"error": ...} body
// containing msg.
func wantError(t *testing.T, what string, a answer, status int, msg string) {
	t.Helper()
	wantStatus(t, what, a, status)
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(a.body, &e); err != nil || e.Error == "" {
		t.Fatalf("%s: body %q is not {\"error\": ...}", what, a.body)
	}
	if !strings.Contains(strings.ToLower(e.Error), msg) {
		t.Fatalf("%s: error %q does not say %q", what, e.Error, msg)
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: Content-Type %q", what, ct)
	}
}

// claimBody checks a 201/202 body and returns the licence file's text.
func (s *suite) claimBody(t *testing.T, what string, a answer) string {
	t.Helper()
	var b struct {
		LicenseFile *string `json:"license_file"`
		LicenseKey  *string `json:"license_key"`
		ExpiresAt   *int64  `json:"expires_at"`
		ExpiresIn   *int64  `json:"expires_in"`
	}
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("%s: body %q: %v", what, a.body, err)
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: Content-Type %q", what, ct)
	}
	if b.ExpiresAt == nil || b.ExpiresIn == nil {
		t.Fatalf("%s: body %s lacks expires_at or expires_in", what, a.body)
	}
	ttl := int64(s.tg.TTL / time.Second)
	if *b.ExpiresIn != ttl {
		t.Fatalf("%s: expires_in %d, want the TTL %d", what, *b.ExpiresIn, ttl)
	}
	now := time.Now().Unix()
	if *b.ExpiresAt < now+ttl-5 || *b.ExpiresAt > now+ttl+5 {
		t.Fatalf("%s: expires_at %d, want about now (%d) + %d", what, *b.ExpiresAt, now, ttl)
	}
	if !s.tg.Files {
		if b.LicenseFile != nil || b.LicenseKey != nil {
			t.Fatalf("%s: a pool of plain seats returned a file: %s", what, a.body)
		}
		return ""
	}
	if b.LicenseFile == nil || b.LicenseKey == nil || *b.LicenseKey == "" {
		t.Fatalf("%s: no license_file or license_key in %s", what, a.body)
	}
	text, err := base64.StdEncoding.DecodeString(*b.LicenseFile)
	if err != nil {
		t.Fatalf("%s: license_file is not base64: %v", what, err)
	}
	if !strings.HasPrefix(string(text), "-----BEGIN LICENSE FILE-----") {
		t.Fatalf("%s: license_file is not a licence file: %.60q", what, text)
	}
	return string(text)
}

// GET /v1/health answers 200.
func (s *suite) health(t *testing.T) {
	wantStatus(t, "GET /v1/health", s.send(t, http.MethodGet, "/v1/health", ""), http.StatusOK)
}

// A new node's PUT answers 201 with the licence file, its key and the
// lease's expiry.
func (s *suite) claimNew(t *testing.T) {
	fp := s.fp("new")
	defer s.releaseAll(t, fp)
	a := s.put(t, fp)
	wantStatus(t, "claim", a, http.StatusCreated)
	s.claimBody(t, "claim", a)
}

// A repeated PUT extends the lease: 202 with the same file.
func (s *suite) claimHeartbeat(t *testing.T) {
	fp := s.fp("heartbeat")
	defer s.releaseAll(t, fp)
	a := s.put(t, fp)
	wantStatus(t, "claim", a, http.StatusCreated)
	first := s.claimBody(t, "claim", a)
	for i := range 3 {
		b := s.put(t, fp)
		wantStatus(t, fmt.Sprintf("heartbeat %d", i+1), b, http.StatusAccepted)
		if again := s.claimBody(t, "heartbeat", b); again != first {
			t.Fatalf("heartbeat %d returned another licence file", i+1)
		}
	}
}

// With every seat held, a claim answers 410 "no licenses available"; the
// nodes holding one get distinct files.
func (s *suite) claimExhausted(t *testing.T) {
	var fps []string
	defer func() { s.releaseAll(t, fps...) }()
	files := map[string]bool{}
	for i := range s.tg.Seats {
		fp := s.fp("fill")
		fps = append(fps, fp)
		a := s.put(t, fp)
		wantStatus(t, fmt.Sprintf("claim %d of %d", i+1, s.tg.Seats), a, http.StatusCreated)
		if f := s.claimBody(t, "claim", a); s.tg.Files {
			if files[f] {
				t.Fatalf("claim %d got a licence file another node holds", i+1)
			}
			files[f] = true
		}
	}
	wantError(t, "claim beyond the seats", s.put(t, s.fp("over")), http.StatusGone, "no licenses available")
}

// DELETE answers 204 with no body, and the seat is free again.
func (s *suite) release(t *testing.T) {
	var fps []string
	defer func() { s.releaseAll(t, fps...) }()
	for range s.tg.Seats {
		fp := s.fp("held")
		fps = append(fps, fp)
		wantStatus(t, "claim", s.put(t, fp), http.StatusCreated)
	}
	a := s.del(t, fps[0])
	wantStatus(t, "release", a, http.StatusNoContent)
	if len(a.body) != 0 {
		t.Fatalf("release answered a body: %q", a.body)
	}
	fps = fps[1:]
	fp := s.fp("after")
	fps = append(fps, fp)
	wantStatus(t, "claim of the freed seat", s.put(t, fp), http.StatusCreated)
}

// DELETE of a node that holds nothing answers 404, also a second DELETE.
func (s *suite) releaseUnknown(t *testing.T) {
	wantError(t, "release of a node never seen", s.del(t, s.fp("unknown")), http.StatusNotFound, "not found")
	fp := s.fp("twice")
	wantStatus(t, "claim", s.put(t, fp), http.StatusCreated)
	wantStatus(t, "release", s.del(t, fp), http.StatusNoContent)
	wantError(t, "second release", s.del(t, fp), http.StatusNotFound, "not found")
}

// Concurrent PUTs of one node take one seat: one 201, the rest 202.
func (s *suite) retriedClaim(t *testing.T) {
	fp := s.fp("retried")
	var fps []string
	defer func() { s.releaseAll(t, append(fps, fp)...) }()
	const n = 16
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPut, s.tg.URL+"/v1/nodes/"+url.PathEscape(fp), nil)
			if p := s.pool(); p != "" {
				req.Header.Set("Relay-Pool", p)
			}
			if resp, err := s.tg.HTTP.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				codes[i] = resp.StatusCode
			}
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for _, c := range codes {
		count[c]++
	}
	if count[http.StatusCreated] != 1 || count[http.StatusAccepted] != n-1 {
		t.Fatalf("answers %v, want one 201 and %d 202", count, n-1)
	}
	// Exactly Seats-1 seats are left.
	for range s.tg.Seats - 1 {
		other := s.fp("rest")
		fps = append(fps, other)
		wantStatus(t, "claim of a remaining seat", s.put(t, other), http.StatusCreated)
	}
	wantError(t, "claim beyond the seats", s.put(t, s.fp("over")), http.StatusGone, "no licenses available")
}

// Relay-Pool names the pool; a pool the server does not serve is 400.
func (s *suite) poolHeader(t *testing.T) {
	if s.tg.Pool != "" {
		fp := s.fp("named")
		defer s.releaseAll(t, fp)
		a := s.send(t, http.MethodPut, "/v1/nodes/"+fp, s.tg.Pool)
		wantStatus(t, "claim naming the pool", a, http.StatusCreated)
		wantStatus(t, "release naming the pool", s.send(t, http.MethodDelete, "/v1/nodes/"+fp, s.tg.Pool), http.StatusNoContent)
	}
	a := s.send(t, http.MethodPut, "/v1/nodes/"+s.fp("nopool"), "conformance-no-such-pool")
	wantStatus(t, "claim naming a pool not served", a, http.StatusBadRequest)
	wantError(t, "claim naming a pool not served", a, http.StatusBadRequest, "pool")
}

// A node holding a lease in one pool gets 409 claiming in another and 404
// releasing there.
func (s *suite) crossPool(t *testing.T) {
	fp := s.fp("cross")
	defer s.releaseAll(t, fp)
	wantStatus(t, "claim", s.put(t, fp), http.StatusCreated)
	wantError(t, "claim in the other pool", s.send(t, http.MethodPut, "/v1/nodes/"+fp, s.tg.OtherPool), http.StatusConflict, "")
	wantError(t, "release in the other pool", s.send(t, http.MethodDelete, "/v1/nodes/"+fp, s.tg.OtherPool), http.StatusNotFound, "not found")
}

// Every answer, successes and errors, carries Relay-Signature over its
// exact body.
func (s *suite) signature(t *testing.T) {
	fp := s.fp("signed")
	defer s.releaseAll(t, fp)
	for _, step := range []struct{ method, path string }{
		{http.MethodGet, "/v1/health"},
		{http.MethodPut, "/v1/nodes/" + fp},
		{http.MethodPut, "/v1/nodes/" + fp},
		{http.MethodDelete, "/v1/nodes/" + fp},
		{http.MethodDelete, "/v1/nodes/" + fp},
	} {
		a := s.send(t, step.method, step.path, s.pool())
		h := a.header.Get("Relay-Signature")
		if err := client.Verify(s.tg.Secret, h, a.body, time.Now(), time.Minute); err != nil {
			t.Fatalf("%s %s (%d): Relay-Signature %q: %v", step.method, step.path, a.status, h, err)
		}
	}
}

// A node that stops claiming loses its lease after the TTL: its seat goes
// to another node and its DELETE answers 404.
func (s *suite) expiry(t *testing.T) {
	var fps []string
	defer func() { s.releaseAll(t, fps...) }()
	for range s.tg.Seats {
		fp := s.fp("silent")
		fps = append(fps, fp)
		wantStatus(t, "claim", s.put(t, fp), http.StatusCreated)
	}
	wantStatus(t, "claim beyond the seats", s.put(t, s.fp("early")), http.StatusGone)
	start := time.Now()
	deadline := start.Add(s.tg.TTL + s.tg.CullWithin + 5*time.Second)
	time.Sleep(s.tg.TTL)
	late := s.fp("late")
	for {
		a := s.put(t, late)
		if a.status == http.StatusCreated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no seat freed %v after the TTL: %d %s", time.Since(deadline.Add(-5*time.Second)), a.status, a.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	fps = append(fps, late)
	time.Sleep(time.Until(start.Add(s.tg.TTL + s.tg.CullWithin)))
	wantError(t, "release of an expired node", s.del(t, fps[0]), http.StatusNotFound, "not found")
}
