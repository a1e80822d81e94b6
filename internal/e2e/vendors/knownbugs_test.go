package vendors

import (
	"os"
	"testing"
)

// knownBugsEnv runs the tests that are skipped for a known bug.
const knownBugsEnv = "LICENSEGW_E2E_KNOWN_BUGS"

// skipKnownBug skips a test that fails for a known bug, unless
// knownBugsEnv is set (to see whether it is fixed). An empty bug runs the
// test.
func skipKnownBug(t *testing.T, bug string) {
	t.Helper()
	if bug != "" && os.Getenv(knownBugsEnv) == "" {
		t.Skipf("known bug (set %s=1 to run): %s", knownBugsEnv, bug)
	}
}
