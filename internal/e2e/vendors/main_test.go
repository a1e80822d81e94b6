package vendors

import (
	"os"
	"testing"

	"github.com/licensegw/licensegw/internal/e2etest"
)

// bins holds every binary the tests run; TestMain builds them once and
// tests only read it.
var bins e2etest.Binaries

func TestMain(m *testing.M) {
	os.Exit(e2etest.Main(m, &bins, "./cmd/...", "./examples/minimal-plugin", "./examples/seatlist-importer"))
}
