package ui

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// source is an in-memory Source: the messages it was given, and the usage
// of one feature, "cad".
type source struct{ msgs []Message }

func (s source) Subscribe(ctx context.Context) (<-chan Message, error) {
	ch := make(chan Message, len(s.msgs))
	for _, m := range s.msgs {
		ch <- m
	}
	close(ch)
	return ch, nil
}

func (source) Usage(_ context.Context, feature string, _, _ time.Time, n int) ([]int, int, error) {
	if feature != "cad" {
		return nil, 0, fmt.Errorf("%w: %s", ErrNoFeature, feature)
	}
	peaks := make([]int, n)
	peaks[n-1] = 2
	return peaks, 3, nil
}

func TestBadQueries(t *testing.T) {
	srv := httptest.NewServer(Handler(source{}, hclog.NewNullLogger()))
	t.Cleanup(srv.Close)
	tests := []struct {
		query    string
		code     int
		contains string
	}{
		{"usage.svg", 400, "feature=NAME"},
		{"usage.svg?feature=cad&range=year", 400, "range=hour"},
		{"usage.svg?feature=" + strings.Repeat("x", 65), 400, "at most 64"},
		{"usage.svg?feature=" + strings.Repeat("x", 600), 400, "longer than 512"},
		{"usage.svg?feature=c%zz", 400, "malformed"},
		{"usage.svg?feature=c;d", 400, "malformed"},
		{"usage.svg?feature=%3Cscript%3E", 400, "feature=NAME"},
		{"usage.svg?feature=cad&feature=cad", 400, "more than once"},
		{"usage.svg?feature=cad&colour=red", 400, "unknown parameter"},
		{"usage.svg?feature=gone", 404, `no feature \"gone\"`},
		{"events?x=1", 400, "takes no parameters"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp, err := http.Get(srv.URL + "/ui/" + tt.query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct{ Error string }
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("%d, body not JSON: %v", resp.StatusCode, err)
			}
			if resp.StatusCode != tt.code || !strings.Contains(body.Error, strings.ReplaceAll(tt.contains, `\"`, `"`)) {
				t.Fatalf("%d %q, want %d containing %q", resp.StatusCode, body.Error, tt.code, tt.contains)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

func TestChart(t *testing.T) {
	srv := httptest.NewServer(Handler(source{}, hclog.NewNullLogger()))
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/ui/usage.svg?feature=cad&range=day")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
	svg := b.String()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"<svg ", "<title>2</title>", "3 seats", "-day", "</svg>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q:\n%s", want, svg)
		}
	}
	if strings.Contains(svg, "<style") {
		t.Error("chart has a <style> element, which the content policy blocks")
	}
	if n := strings.Count(svg, "<rect"); n != 1 {
		t.Errorf("%d bars, want 1 (one bucket in use)", n)
	}
}

// TestStream: messages become "event: message" frames with the subject
// and the payload; a payload that is not JSON is skipped.
func TestStream(t *testing.T) {
	src := source{msgs: []Message{
		{Subject: "licensegw.events.local.cad.checkout", Data: []byte(`{"kind":"checkout","in_use":1}`)},
		{Subject: "licensegw.events.local.cad.bad", Data: []byte(`{not json`)},
		{Subject: "licensegw.plugins.clm.started", Data: []byte(`{"plugin":"clm"}`)},
	}}
	srv := httptest.NewServer(Handler(src, hclog.NewNullLogger()))
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/ui/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	var got []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var m struct {
				Subject string
				Payload json.RawMessage
			}
			if err := json.Unmarshal([]byte(d), &m); err != nil {
				t.Fatalf("frame %q: %v", d, err)
			}
			got = append(got, m.Subject+" "+string(m.Payload))
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	want := []string{`licensegw.events.local.cad.checkout {"kind":"checkout","in_use":1}`, `licensegw.plugins.clm.started {"plugin":"clm"}`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("frames:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPageAndAssets(t *testing.T) {
	srv := httptest.NewServer(Handler(source{}, hclog.NewNullLogger()))
	t.Cleanup(srv.Close)
	for _, p := range []string{"/ui/", "/ui/assets/app.js", "/ui/assets/app.css", "/ui/assets/favicon.svg"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("%s: %d, CSP %q", p, resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
		}
	}
}
