package cli

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/licensegw/licensegw/gateway/token"
)

// tokenCreateCommand makes an admin API token: the token goes to whoever
// will use it, the token block (its hash only) into the configuration.
type tokenCreateCommand struct {
	name, scope, expires string
}

func (*tokenCreateCommand) synopsis() string { return "make an admin API token" }
func (*tokenCreateCommand) usage() string {
	return "token create -name NAME [-scope read|write] [-expires DATE]"
}
func (*tokenCreateCommand) help() string {
	return "Prints a new admin API token on stdout and, on stderr, the token block to add\n" +
		"to the admin block of the gateway's configuration: it holds the token's SHA-256,\n" +
		"never the token. Reload the gateway to accept it."
}

func (c *tokenCreateCommand) flags(_ *env, fs *flag.FlagSet) {
	fs.StringVar(&c.name, "name", "", "the token's `name`: the actor events and logs record (required)")
	fs.StringVar(&c.scope, "scope", "read", "`read` (status, leases, metrics) or write (also remove, reload)")
	fs.StringVar(&c.expires, "expires", "", "last `date` the token works (YYYY-MM-DD), or an RFC 3339 time")
}

func (c *tokenCreateCommand) run(_ context.Context, e *env, args []string) int {
	if len(args) > 0 || c.name == "" {
		fmt.Fprintln(e.stderr, "Usage: licensegw "+c.usage())
		return exitUsage
	}
	if _, err := token.ParseScope(c.scope); err != nil {
		return fail(e, "-scope: %v", err)
	}
	if c.expires != "" {
		if _, err := time.Parse(time.DateOnly, c.expires); err != nil {
			if _, err := time.Parse(time.RFC3339, c.expires); err != nil {
				return fail(e, "-expires %q is not a date (YYYY-MM-DD) or an RFC 3339 time", c.expires)
			}
		}
	}
	tok, err := token.New()
	if err != nil {
		return fail(e, "%v", err)
	}
	fmt.Fprintln(e.stdout, tok)
	fmt.Fprintf(e.stderr, "\nGive the token above to its user (LICENSEGW_TOKEN or -token); it is not stored anywhere.\n"+
		"Add this to the admin block of the gateway's configuration, then reload:\n\n%s\n", tokenBlock(c.name, c.scope, c.expires, token.Hash(tok)))
	return exitOK
}

// tokenBlock is the configuration's token block for a token.
func tokenBlock(name, scope, expires string, d token.Digest) string {
	s := fmt.Sprintf("  token %q {\n    sha256 = %q\n    scope  = %q\n", name, d.String(), scope)
	if expires != "" {
		s += fmt.Sprintf("    expires = %q\n", expires)
	}
	return s + "  }"
}

// tokenHashCommand prints a token's SHA-256, for a token block.
type tokenHashCommand struct{ stdin io.Reader }

func (*tokenHashCommand) synopsis() string { return "print the SHA-256 of a token, for a token block" }
func (*tokenHashCommand) usage() string    { return "token hash [TOKEN]" }
func (*tokenHashCommand) help() string {
	return "Prints the hex SHA-256 of TOKEN (read from stdin when not given, which keeps\nit out of the shell's history)."
}
func (*tokenHashCommand) flags(*env, *flag.FlagSet) {}

func (c *tokenHashCommand) run(_ context.Context, e *env, args []string) int {
	var text string
	switch len(args) {
	case 0:
		in := c.stdin
		if in == nil {
			in = os.Stdin
		}
		line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
		if err != nil && err != io.EOF {
			return fail(e, "read the token: %v", err)
		}
		text = line
	case 1:
		text = args[0]
	default:
		fmt.Fprintln(e.stderr, "Usage: licensegw "+c.usage())
		return exitUsage
	}
	tok, err := token.Parse(text)
	if err != nil {
		return fail(e, "%v", err)
	}
	fmt.Fprintln(e.stdout, token.Hash(tok))
	return exitOK
}
