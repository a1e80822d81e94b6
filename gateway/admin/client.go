package admin

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/licensegw/licensegw/gateway/report"
)

// DefaultAddr is the API's default address.
const DefaultAddr = "127.0.0.1:7648"

// Client calls the API; the CLI uses it.
type Client struct {
	base     string
	explicit bool // addr named its scheme
	token    string
	hc       *http.Client
}

// ClientOption configures a Client.
type ClientOption func(*Client)

// WithToken sends tok as the bearer token of every request.
func WithToken(tok string) ClientOption { return func(c *Client) { c.token = tok } }

// WithTLS uses cfg for https:// addresses (a CA to trust, a client
// certificate to present). A host:port address becomes https:// with it.
func WithTLS(cfg *tls.Config) ClientOption {
	return func(c *Client) {
		c.hc.Transport = &http.Transport{TLSClientConfig: cfg, Proxy: http.ProxyFromEnvironment}
		if strings.HasPrefix(c.base, "http://") && !c.explicit {
			c.base = "https://" + strings.TrimPrefix(c.base, "http://")
		}
	}
}

// NewClient returns a client for the API at addr (host:port or a URL).
func NewClient(addr string, opts ...ClientOption) *Client {
	base := addr
	explicit := strings.Contains(base, "://")
	if !explicit {
		base = "http://" + base
	}
	c := &Client{base: strings.TrimRight(base, "/"), hc: &http.Client{Timeout: 30 * time.Second}, explicit: explicit}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Status fetches /v1/status.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var st Status
	if err := c.do(ctx, http.MethodGet, "/v1/status", &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// RemoveLease removes a lease; ErrNotFound when it is unknown.
func (c *Client) RemoveLease(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/leases/"+url.PathEscape(id), nil)
}

// Leases fetches every lease (of feature and vendor when not empty),
// following the API's pages of pageSize (0: the server's default).
func (c *Client) Leases(ctx context.Context, feature, vendor string, pageSize int) ([]Lease, error) {
	var all []Lease
	cursor := ""
	for {
		q := url.Values{}
		if feature != "" {
			q.Set("feature", feature)
		}
		if vendor != "" {
			q.Set("vendor", vendor)
		}
		if pageSize > 0 {
			q.Set("limit", strconv.Itoa(pageSize))
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page []Lease
		h, err := c.doHeader(ctx, http.MethodGet, "/v1/leases?"+q.Encode(), &page)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if cursor = h.Get(NextCursorHeader); cursor == "" {
			return all, nil
		}
	}
}

// Reload asks the gateway to reread its configuration.
func (c *Client) Reload(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/reload", nil)
}

// Ready reports whether the gateway serves requests.
func (c *Client) Ready(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/readyz", nil)
}

// APIError is an error answer.
type APIError struct {
	Code    int
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Code) }

// Is makes a 404 match ErrNotFound, a 401 ErrUnauthorized and a 403
// ErrForbidden.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Code == http.StatusNotFound
	case ErrUnauthorized:
		return e.Code == http.StatusUnauthorized
	case ErrForbidden:
		return e.Code == http.StatusForbidden
	}
	return false
}

func (c *Client) do(ctx context.Context, method, path string, out any) error {
	_, err := c.doHeader(ctx, method, path, out)
	return err
}

// doHeader is do that also returns the answer's headers.
func (c *Client) doHeader(ctx context.Context, method, path string, out any) (http.Header, error) {
	return c.doBody(ctx, method, path, nil, out)
}

// doBody is doHeader with a JSON request body (nil: none).
func (c *Client) doBody(ctx context.Context, method, path string, reqBody []byte, out any) (http.Header, error) {
	var rd io.Reader
	if reqBody != nil {
		rd = bytes.NewReader(reqBody)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if reqBody != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("admin API at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		var eb errorBody
		if json.Unmarshal(body, &eb) != nil || eb.Error == "" {
			eb.Error = strings.TrimSpace(string(body))
		}
		return nil, &APIError{Code: resp.StatusCode, Message: eb.Error}
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return resp.Header, nil
	}
	return resp.Header, json.Unmarshal(body, out)
}

// slow is c with reportTimeout: the same address, token and TLS.
func (c *Client) slow() *Client {
	s := *c
	s.hc = &http.Client{Timeout: reportTimeout, Transport: c.hc.Transport}
	return &s
}

// reportTimeout bounds a report, which reads the whole journal.
const reportTimeout = 10 * time.Minute

// Report runs a report (GET /v1/reports/{kind}); params are since, until,
// by and retry as the CLI takes them.
func (c *Client) Report(ctx context.Context, kind string, params url.Values) (*report.Result, error) {
	var res report.Result
	slow := c.slow()
	path := "/v1/reports/" + url.PathEscape(kind)
	if q := params.Encode(); q != "" {
		path += "?" + q
	}
	if err := slow.do(ctx, http.MethodGet, path, &res); err != nil {
		return nil, err
	}
	return &res, nil
}
