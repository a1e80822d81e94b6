package e2e

import (
	"os"
	"testing"

	"github.com/licensegw/licensegw/internal/e2etest"
)

// Names of the built executables every test runs.
const (
	licensegwBin = "licensegw"              // daemon and CLI
	pluginBin    = "licensegw-concurrentlm" // the concurrent-lm plugin
	natsBin      = "nats-server"            // an external NATS server to kill
)

// bins is set by TestMain before any test runs and never changed after.
var bins e2etest.Binaries

func TestMain(m *testing.M) {
	os.Exit(e2etest.Main(m, &bins, "./cmd/licensegw", "./cmd/licensegw-concurrentlm", "./cmd/licensegw-flexlm", "./cmd/licensegw-sentinel", "github.com/nats-io/nats-server/v2"))
}
