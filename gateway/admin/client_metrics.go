package admin

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Metrics fetches /metrics in the Prometheus text format: the gateway's
// series and every plugin's (licensegw_plugin_*).
func (c *Client) Metrics(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
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
		return nil, &APIError{Code: resp.StatusCode, Message: strings.TrimSpace(string(body))}
	}
	return body, nil
}
