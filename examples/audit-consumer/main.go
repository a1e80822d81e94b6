// Command audit-consumer appends licensegw's events to a file, one JSON line
// per event, exactly once across restarts. See README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/licensegw/licensegw/examples/audit-consumer/audit"
)

func main() {
	var cfg audit.Config
	flag.StringVar(&cfg.URL, "url", audit.DefaultURL, "NATS server URL")
	flag.StringVar(&cfg.Stream, "stream", audit.DefaultStream, "JetStream stream of the events")
	flag.StringVar(&cfg.Durable, "durable", audit.DefaultDurable, "durable consumer name")
	flag.StringVar(&cfg.Subject, "subject", audit.DefaultSubject, "subjects to copy")
	flag.StringVar(&cfg.Out, "out", "audit.jsonl", "file the events are appended to")
	flag.IntVar(&cfg.Batch, "batch", audit.DefaultBatch, "events per write+fsync+ack round")
	flag.DurationVar(&cfg.AckWait, "ack-wait", audit.DefaultAckWait, "redelivery delay after a crash")
	flag.Parse()
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := audit.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "audit-consumer:", err)
		os.Exit(1)
	}
}
