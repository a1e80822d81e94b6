package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/gateway/report"
	"github.com/licensegw/licensegw/gateway/seats"
	"github.com/licensegw/licensegw/gateway/simulate"
)

// ErrBadRequest: the request cannot be served as asked (the API answers
// 400 with the message). Backends wrap it.
var ErrBadRequest = errors.New("bad request")

// SimulateBackend is a Backend that also replays the journal under another
// configuration, at POST /v1/simulate.
type SimulateBackend interface {
	Simulate(ctx context.Context, req SimulateRequest) (*simulate.Result, error)
}

// SimulateRequest is what POST /v1/simulate is asked, decoded. The body is
// JSON: {"since": "30d", "until": "", "config": {...} | null,
// "seats": {"modeler": 8}}; config is the engine configuration as
// `licensegw simulate --config` sends it, seats changes the running one.
type SimulateRequest struct {
	Since, Until time.Time
	Config       *seats.Config
	Seats        map[string]int
}

type simulateBody struct {
	Since  string         `json:"since"`
	Until  string         `json:"until"`
	Config *seats.Config  `json:"config"`
	Seats  map[string]int `json:"seats"`
}

// NewSimulateBody is the JSON body of a simulation request.
func NewSimulateBody(since, until string, cfg *seats.Config, seatCounts map[string]int) ([]byte, error) {
	return json.Marshal(simulateBody{Since: since, Until: until, Config: cfg, Seats: seatCounts})
}

func simulateHandler(b SimulateBackend, log hclog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := decodeSimulate(r, time.Now())
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		res, err := b.Simulate(r.Context(), req)
		switch {
		case err == nil:
			writeJSON(w, http.StatusOK, res)
		case errors.Is(err, ErrBadRequest):
			writeError(w, http.StatusBadRequest, err.Error())
		case errors.Is(err, simulate.ErrEmpty):
			writeError(w, http.StatusNotFound, err.Error())
		default:
			log.Error("simulate", "error", err)
			writeError(w, http.StatusServiceUnavailable, err.Error())
		}
	}
}

func decodeSimulate(r *http.Request, now time.Time) (SimulateRequest, error) {
	var req SimulateRequest
	var body simulateBody
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return req, fmt.Errorf("request body: %w", err)
	}
	if body.Config != nil && len(body.Seats) > 0 {
		return req, errors.New("give config or seats, not both")
	}
	for name, n := range body.Seats {
		if n < 0 {
			return req, fmt.Errorf("seats of %q: %d is negative", name, n)
		}
	}
	if body.Since == "" {
		body.Since = "30d"
	}
	var err error
	if req.Since, err = report.ParseTime(body.Since, now); err != nil {
		return req, err
	}
	if req.Until, err = report.ParseTime(body.Until, now); err != nil {
		return req, err
	}
	if !req.Until.IsZero() && !req.Until.After(req.Since) {
		return req, errors.New("until is not after since")
	}
	req.Config, req.Seats = body.Config, body.Seats
	return req, nil
}

// Simulate runs a simulation (POST /v1/simulate) with a body made by
// NewSimulateBody.
func (c *Client) Simulate(ctx context.Context, body []byte) (*simulate.Result, error) {
	var res simulate.Result
	if _, err := c.slow().doBody(ctx, http.MethodPost, "/v1/simulate", body, &res); err != nil {
		return nil, err
	}
	return &res, nil
}
