// Command licensegw is the licence gateway: the daemon and its tools.
package main

import (
	"context"
	"os"

	"github.com/licensegw/licensegw/internal/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
