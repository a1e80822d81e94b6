package lsmon

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/licensegw/licensegw/plugins/sentinel/client"
)

// EnvHost names the servers lsmon asks when no HOST argument is given, as
// Sentinel's LSHOST does; client.EnvForceHost (LSFORCEHOST), when set,
// comes first.
const EnvHost = client.EnvHost

// Main is the lsmon command: lsmon [-f feature] [-timeout d] [HOST[:PORT]],
// where HOST may be a list of redundant servers (h1,h2,h3 or h1~h2~h3):
// lsmon shows the first that answers.
// It returns the exit status: 0, 1 when the server cannot be queried, 2 for
// a usage error.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lsmon", flag.ContinueOnError)
	var parseOut bytes.Buffer // help goes to stdout, errors to stderr
	fs.SetOutput(&parseOut)
	feature := fs.String("f", "", "show only this feature")
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: lsmon [-f feature] [-timeout d] [HOST[:PORT][,HOST[:PORT]...]]\n\n"+
			"HOST defaults to $%s, then $%s, then localhost; PORT to %s. A list (',' or '~'\n"+
			"between servers) names redundant servers: the first that answers is shown.\n\n",
			client.EnvForceHost, EnvHost, client.DefaultPort)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			// Help asked for is not an error: to stdout, status 0.
			_, _ = parseOut.WriteTo(stdout)
			return 0
		}
		_, _ = parseOut.WriteTo(stderr)
		return 2
	}
	fs.SetOutput(stderr)
	if fs.NArg() > 1 {
		fs.Usage()
		return 2
	}
	host := fs.Arg(0)
	if host == "" {
		host = client.ServersFromEnv(os.Getenv)
	}
	if host == "" {
		host = "localhost"
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	r, err := Query(ctx, host, *feature, client.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "lsmon: %s: %v\n", host, err)
		return 1
	}
	if err := Write(stdout, r, time.Local); err != nil {
		fmt.Fprintf(stderr, "lsmon: %v\n", err)
		return 1
	}
	return 0
}

// Query asks the server at host for its features (those named feature,
// or all) and their token holders. host may list several servers (see
// client.Dial); the report names the one that answered.
func Query(ctx context.Context, host, feature string, opts client.Options) (*Report, error) {
	c, err := client.Dial(host, opts)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	info, err := c.ServerInfo(ctx)
	if err != nil {
		return nil, fmt.Errorf("server information: %w", err)
	}
	features, err := c.Features(ctx, feature)
	if err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	r := &Report{Host: c.ServerName(), Storage: info.Storage}
	for _, f := range features {
		clients, err := c.Clients(ctx, f.Name, f.Version)
		if err != nil {
			return nil, fmt.Errorf("clients of %s: %w", f.Name, err)
		}
		r.Features = append(r.Features, Feature{Feature: f, Clients: clients})
	}
	return r, nil
}
