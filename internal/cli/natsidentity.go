package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"

	"github.com/nats-io/nkeys"

	"github.com/licensegw/licensegw/gateway/config"
	"github.com/licensegw/licensegw/gateway/natscreds"
)

// natsIdentityCommand makes a NATS identity for the embedded server: the
// seed file goes to whoever connects with it, the identity block (public
// key only) into the configuration.
type natsIdentityCommand struct {
	name, access, out string
}

func (*natsIdentityCommand) synopsis() string {
	return "make a NATS identity (nkey seed file and identity block)"
}
func (*natsIdentityCommand) usage() string {
	return "nats identity -name NAME -out FILE [-access read|write]"
}
func (*natsIdentityCommand) help() string {
	return "Writes a new user nkey seed to FILE (mode 0600; refused if FILE exists) and prints,\n" +
		"on stdout, the identity block to add to the nats block of the gateway's\n" +
		"configuration: it holds the public key, never the seed. Reload the gateway to\n" +
		"accept it. Clients connect with the file: licensegw events tail --creds FILE,\n" +
		"nats --nkey FILE, nats.NkeyOptionFromSeed(FILE)."
}

func (c *natsIdentityCommand) flags(_ *env, fs *flag.FlagSet) {
	fs.StringVar(&c.name, "name", "", "the identity's `name` (required)")
	fs.StringVar(&c.access, "access", "read", "`read` (events and consumers) or write (everything, as the gateway)")
	fs.StringVar(&c.out, "out", "", "the seed `file` to write (required)")
}

func (c *natsIdentityCommand) run(_ context.Context, e *env, args []string) int {
	if len(args) > 0 || c.name == "" || c.out == "" {
		fmt.Fprintln(e.stderr, "Usage: licensegw "+c.usage())
		return exitUsage
	}
	if c.access != "read" && c.access != "write" {
		return fail(e, "-access %q: read or write", c.access)
	}
	if _, err := os.Stat(c.out); !errors.Is(err, fs.ErrNotExist) {
		return fail(e, "%s exists; choose another file (a seed file is never overwritten)", c.out)
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		return fail(e, "%v", err)
	}
	defer kp.Wipe()
	header := []string{fmt.Sprintf("licensegw NATS identity %q (access %s).", c.name, c.access), "Keep it secret (mode 0600)."}
	if err := natscreds.WriteSeed(c.out, kp, header); err != nil {
		return fail(e, "%v", err)
	}
	pub, _ := kp.PublicKey()
	fmt.Fprintf(e.stdout, "  identity %q {\n    nkey   = %q\n    access = %q\n  }\n", c.name, pub, c.access)
	fmt.Fprintf(e.stderr, "\nWrote the seed to %s. Add the block above to the nats block of the gateway's\nconfiguration (name %q is reserved) and reload the gateway.\n", c.out, config.AuditIdentityName)
	return exitOK
}
