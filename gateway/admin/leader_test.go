package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// stepDownBackend is backend that can step down, as a cluster's node.
type stepDownBackend struct {
	backend
	res StepDownResult
	err error
}

func (b *stepDownBackend) StepDown(context.Context) (StepDownResult, error) { return b.res, b.err }

func TestStepDownEndpoint(t *testing.T) {
	ctx := context.Background()

	// A single gateway cannot step down.
	_, err := serve(t, &backend{}).StepDown(ctx)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != http.StatusConflict || !strings.Contains(apiErr.Message, "not in a cluster") {
		t.Errorf("step-down on a single gateway = %v, want 409 not in a cluster", err)
	}

	for _, tt := range []struct {
		name string
		b    *stepDownBackend
		code int
		msg  string
	}{
		{name: "leader", b: &stepDownBackend{res: StepDownResult{Node: "gw-1", Term: 4, Next: "gw-2", NextTerm: 9}}},
		{name: "standby", b: &stepDownBackend{err: fmt.Errorf("%w: gw-2 leads", ErrNotLeader)}, code: http.StatusConflict, msg: "gw-2 leads"},
		{name: "alone", b: &stepDownBackend{err: fmt.Errorf("%w: no other node", ErrNoSuccessor)}, code: http.StatusConflict, msg: "no other node"},
		{name: "failed", b: &stepDownBackend{err: errors.New("lease not released")}, code: http.StatusInternalServerError, msg: "lease not released"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hs := httptest.NewServer(Handler(tt.b, hclog.NewNullLogger()))
			t.Cleanup(hs.Close)
			res, err := NewClient(hs.URL).StepDown(ctx)
			if tt.code == 0 {
				if err != nil || res.Next != "gw-2" || res.NextTerm != 9 {
					t.Fatalf("StepDown = %+v, %v", res, err)
				}
				return
			}
			if !errors.As(err, &apiErr) || apiErr.Code != tt.code || !strings.Contains(apiErr.Message, tt.msg) {
				t.Fatalf("StepDown = %v, want %d %q", err, tt.code, tt.msg)
			}
		})
	}
}
