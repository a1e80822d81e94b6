package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/licensegw/licensegw/gateway/report"
)

// maxReportQuery bounds a report request's query string.
const maxReportQuery = 1024

// ReportBackend is a Backend that also runs reports over the journal, at
// GET /v1/reports/{usage,denials,peaks}.
type ReportBackend interface {
	Report(ctx context.Context, kind string, q report.Query) (*report.Result, error)
}

// reportHandler answers GET /v1/reports/{kind}?since=30d&until=&by=feature,user&retry=10m.
func reportHandler(b ReportBackend, log hclog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		kind := r.PathValue("kind")
		if !slices.Contains(report.Kinds(), kind) {
			writeError(w, http.StatusNotFound, "no report "+kind+" (usage, denials, peaks)")
			return
		}
		q, err := reportQuery(r, time.Now())
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		res, err := b.Report(r.Context(), kind, q)
		switch {
		case err == nil:
			writeJSON(w, http.StatusOK, res)
		case errors.Is(err, report.ErrQuery):
			writeError(w, http.StatusBadRequest, err.Error())
		case errors.Is(err, report.ErrEmpty):
			writeError(w, http.StatusNotFound, err.Error())
		default:
			log.Error("report", "kind", kind, "error", err)
			writeError(w, http.StatusServiceUnavailable, err.Error())
		}
	}
}

// reportQuery reads and bounds a report's query parameters.
func reportQuery(r *http.Request, now time.Time) (report.Query, error) {
	var q report.Query
	if len(r.URL.RawQuery) > maxReportQuery {
		return q, errors.New("query string longer than 1024 bytes")
	}
	// url.Values would drop a malformed pair silently; say so instead.
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return q, errors.New("malformed query string: " + err.Error())
	}
	for name, vs := range params {
		if !slices.Contains([]string{"since", "until", "by", "retry"}, name) {
			return q, errors.New("unknown parameter " + name + " (since, until, by, retry)")
		}
		if len(vs) > 1 {
			return q, errors.New("parameter " + name + " given more than once")
		}
	}
	since := params.Get("since")
	if since == "" {
		since = "30d"
	}
	if q.Since, err = report.ParseTime(since, now); err != nil {
		return q, err
	}
	if q.Until, err = report.ParseTime(params.Get("until"), now); err != nil {
		return q, err
	}
	q.By = report.ParseBy(params.Get("by"))
	if len(q.By) > len(report.Dimensions()) {
		return q, errors.New("too many --by dimensions")
	}
	if s := params.Get("retry"); s != "" {
		if q.RetryWindow, err = report.ParseDuration(s); err != nil {
			return q, err
		}
	}
	return q, nil
}
