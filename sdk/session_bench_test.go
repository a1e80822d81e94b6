package sdk_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensegw/licensegw/sdk"
	pb "github.com/licensegw/licensegw/sdk/proto"
	"github.com/licensegw/licensegw/sdk/sdktest"
	"google.golang.org/grpc"
)

// unaryService is the baseline: one unary gRPC call per operation, over
// the same kind of connection, against the same in-memory accounting.
const unaryService = "licensegw.bench.Unary"

func registerUnary(s *grpc.Server, seats sdk.Seats) {
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: unaryService,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			{MethodName: "Checkout", Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				var req pb.CheckoutRequest
				if err := dec(&req); err != nil {
					return nil, err
				}
				c, err := seats.Checkout(ctx, sdk.CheckoutRequest{Feature: req.GetFeature(), Client: sdk.Client{User: req.GetClient().GetUser()}})
				if err != nil {
					return nil, err
				}
				return &pb.Grant{Lease: c.Grant.Lease}, nil
			}},
			{MethodName: "Checkin", Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				var req pb.LeaseRef
				if err := dec(&req); err != nil {
					return nil, err
				}
				return &pb.Empty{}, seats.Checkin(ctx, req.GetLease())
			}},
		},
	}, struct{}{})
}

// BenchmarkSeatsStream measures checkout+checkin pairs per second through
// the Session on the data plane (frames on a unix socket) and on the gRPC
// stream, beside a unary-call baseline in the same run.
func BenchmarkSeatsStream(b *testing.B) {
	for _, callers := range []int{1, 16, 64} {
		backend := sdktest.NewSeats(sdktest.Feature{Name: "cad", Seats: 1 << 30, TTL: time.Hour})
		conn, _ := serveSeats(b, backend, func(s *grpc.Server) { registerUnary(s, backend) })
		seats := openSession(b, conn, nil)
		frames := sdktest.Session(b, backend)

		b.Run(fmt.Sprintf("callers=%d/frames", callers), func(b *testing.B) {
			runPairs(b, callers, func(ctx context.Context) error {
				c, err := frames.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Client: sdk.Client{User: "u"}})
				if err != nil {
					return err
				}
				return frames.Checkin(ctx, c.Grant.Lease)
			})
		})
		b.Run(fmt.Sprintf("callers=%d/stream", callers), func(b *testing.B) {
			runPairs(b, callers, func(ctx context.Context) error {
				c, err := seats.Checkout(ctx, sdk.CheckoutRequest{Feature: "cad", Client: sdk.Client{User: "u"}})
				if err != nil {
					return err
				}
				return seats.Checkin(ctx, c.Grant.Lease)
			})
		})
		b.Run(fmt.Sprintf("callers=%d/unary", callers), func(b *testing.B) {
			runPairs(b, callers, func(ctx context.Context) error {
				var g pb.Grant
				req := &pb.CheckoutRequest{Feature: "cad", Client: &pb.Client{User: "u"}}
				if err := conn.Invoke(ctx, "/"+unaryService+"/Checkout", req, &g); err != nil {
					return err
				}
				return conn.Invoke(ctx, "/"+unaryService+"/Checkin", &pb.LeaseRef{Lease: g.GetLease()}, &pb.Empty{})
			})
		})
	}
}

// runPairs runs b.N pairs on callers goroutines and reports pairs/s.
func runPairs(b *testing.B, callers int, pair func(context.Context) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := pair(ctx); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := failed.Load(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "pairs/s")
}
