package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/licensegw/licensegw/internal/e2etest"
)

// chromium finds a Chromium to drive. `make test` installs Debian's
// chromium when it is missing (.ci/ensure-chromium) and sets
// LICENSEGW_REQUIRE_CHROMIUM, so there a missing browser fails the test
// instead of skipping it.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("LICENSEGW_REQUIRE_CHROMIUM") != "" {
		t.Fatal("no chromium on PATH, and LICENSEGW_REQUIRE_CHROMIUM is set (run .ci/ensure-chromium)")
	}
	t.Skip("no chromium on PATH: `make test` installs it (.ci/ensure-chromium)")
	return ""
}

// TestDashboard drives the /ui page in a real headless Chromium: the page
// loads with the numbers `status` gives, a checkout through the real
// plugin appears within a second without reloading, a denial is listed,
// the remove button releases a lease, the usage chart renders, and a
// screenshot is saved (bin/artifacts/ui-dashboard.png, or
// $LICENSEGW_ARTIFACTS).
func TestDashboard(t *testing.T) {
	t.Parallel()
	browser := chromium(t)
	g := StartGateway(t, `
feature "cad" {
  seats  = 1
  expiry = "`+time.Now().AddDate(0, 0, 12).Format("2006-01-02")+`"
}
feature "viewer" {
  seats = 5
}
`)
	c := g.Dial()
	viewerLease := c.checkout("viewer", "vic", "ws-9")

	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.Headless,
		chromedp.ExecPath(browser),
		chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()

	base := "http://" + g.AdminAddr
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/ui"),
		chromedp.WaitVisible(chromedp.CSS(`#live.on`)),
		chromedp.WaitVisible(chromedp.CSS(`#features tr[data-feature="viewer"]`)),
	); err != nil {
		t.Fatalf("load /ui: %v", err)
	}
	// The numbers match status.
	for _, name := range []string{"cad", "viewer"} {
		f := g.Feature(name)
		row := `#features tr[data-feature="` + name + `"] `
		if got, want := text(row+"td.inuse"), fmt.Sprint(f.InUse); got != want {
			t.Errorf("%s in use on the page %q, status %q", name, got, want)
		}
		if got, want := text(row+"td.seats"), fmt.Sprint(f.Seats); got != want {
			t.Errorf("%s seats on the page %q, status %q", name, got, want)
		}
	}
	if s := text(`#features tr[data-feature="cad"]`); !strings.Contains(s, "(expiring)") {
		t.Errorf("cad, 12 days from expiry, is not marked expiring: %q", s)
	}
	if s := text(`#leases tr[data-lease="` + viewerLease + `"]`); !strings.Contains(s, "vic") || !strings.Contains(s, "concurrent-lm") {
		t.Errorf("vic's lease row: %q", s)
	}
	if s := text(`#plugins tbody`); !strings.Contains(s, "concurrentlm") || !strings.Contains(s, "running") {
		t.Errorf("plugins: %q", s)
	}

	// A checkout through the plugin appears live.
	lease := c.checkout("cad", "alice", "ws-1")
	granted := time.Now()
	appeared := false
	for time.Since(granted) < 5*time.Second {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
			`document.querySelector('#leases tr[data-lease="`+lease+`"]') !== null && document.querySelector('#features tr[data-feature="cad"] td.inuse').textContent === "1"`))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			appeared = true
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	latency := time.Since(granted)
	t.Logf("the checkout appeared on the page %v after GRANTED", latency.Round(time.Millisecond))
	if !appeared || latency > time.Second {
		t.Errorf("the checkout appeared: %v, after %v; want within a second", appeared, latency)
	}

	// A denial is listed.
	expect(t, c.Do("CHECKOUT feature=cad user=bob host=ws-2"), "DENIED", "reason", "no-seats")
	e2etest.Eventually(t, 5*time.Second, "denial listed", func() error {
		s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(`#denials tbody`)))
		if err != nil {
			return err
		}
		if !strings.Contains(s, "bob") || !strings.Contains(s, "no-seats") {
			return fmt.Errorf("denials %q", s)
		}
		return nil
	})

	// The usage chart of the last hour shows the seat in use.
	resp, err := http.Get(base + "/ui/usage.svg?feature=cad&range=hour")
	if err != nil {
		t.Fatal(err)
	}
	svg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(string(svg), "<rect") || !strings.Contains(string(svg), "1 seats") {
		t.Errorf("usage.svg: %s %s", resp.Header.Get("Content-Type"), svg)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#features tr[data-feature="cad"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#chart`)),
	); err != nil {
		t.Errorf("chart button: %v", err)
	}
	if shown, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#chart').complete && document.querySelector('#chart').naturalWidth > 0`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil || !shown {
		t.Errorf("chart not shown: %v %v", shown, err)
	}

	saveScreenshot(t, ctx)

	// Remove from the page (the confirmation accepted).
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.confirm = () => true; true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#leases tr[data-lease="`+lease+`"] button.remove`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#leases tr[data-lease="`+lease+`"]`)),
	); err != nil {
		t.Fatalf("remove from the page: %v", err)
	}
	if f := g.Feature("cad"); f.InUse != 0 || len(f.Leases) != 0 {
		t.Errorf("after remove on the page, status says cad %+v", f)
	}

	// Bad queries get JSON errors.
	for _, q := range []string{"usage.svg", "usage.svg?feature=cad&range=year", "usage.svg?feature=" + strings.Repeat("x", 600)} {
		var body struct{ Error string }
		getJSON(t, base+"/ui/"+q, http.StatusBadRequest, &body)
	}
}

func saveScreenshot(t *testing.T, ctx context.Context) {
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	dir := os.Getenv("LICENSEGW_ARTIFACTS")
	if dir == "" {
		root, err := e2etest.ModuleRoot()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, "bin", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ui-dashboard.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}
