package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/licensegw/licensegw/sdk"
	pb "github.com/licensegw/licensegw/sdk/proto"
	"github.com/licensegw/licensegw/sdk/sdktest"
	"google.golang.org/protobuf/proto"
)

func TestCheckIdent(t *testing.T) {
	tests := []struct {
		name string
		k    sdk.Ident
		s    string
		ok   bool
	}{
		{"empty passes", sdk.IdentFeature, "", true},
		{"plain name", sdk.IdentFeature, "cad_pro-2.v1", true},
		{"name at max", sdk.IdentFeature, strings.Repeat("f", 64), true},
		{"name over max", sdk.IdentFeature, strings.Repeat("f", 65), false},
		{"name with star", sdk.IdentFeature, "a*", false},
		{"name with gt", sdk.IdentVendor, "a>", false},
		{"name with space", sdk.IdentVendor, "a b", false},
		{"name with multibyte", sdk.IdentFeature, "café", false},
		{"name not utf8", sdk.IdentFeature, "a\xff", false},
		{"version dotted", sdk.IdentVersion, "2024.1", true},
		{"user with space", sdk.IdentUser, "John Smith", true},
		{"user multibyte", sdk.IdentUser, "José 山田", true},
		{"user at max", sdk.IdentUser, strings.Repeat("é", 64), true},
		{"user over max", sdk.IdentUser, strings.Repeat("é", 64) + "x", false},
		{"user not utf8", sdk.IdentUser, "bob\xc3", false},
		{"user surrogate half", sdk.IdentUser, "\xed\xa0\x80", false},
		{"user tab", sdk.IdentUser, "a\tb", false},
		{"user newline", sdk.IdentUser, "a\nb", false},
		{"user nul", sdk.IdentUser, "a\x00", false},
		{"user del", sdk.IdentUser, "a\x7f", false},
		{"user C1", sdk.IdentUser, "a\u0085", false},
		{"user bidi override", sdk.IdentUser, "a\u202eb", false},
		{"user zero width space", sdk.IdentUser, "a\u200bb", false},
		{"user line separator", sdk.IdentUser, "a\u2028b", false},
		{"user NATS metacharacters are text", sdk.IdentUser, "a.*>b", true},
		{"host at 255", sdk.IdentHost, strings.Repeat("h", 255), true},
		{"host over 255", sdk.IdentHost, strings.Repeat("h", 256), false},
		{"addr ipv6", sdk.IdentAddr, "[fe80::1%eth0]:27000", true},
		{"addr with space", sdk.IdentAddr, "1.2.3.4 :5", false},
		{"request key", sdk.IdentRequestKey, "clm-udp/127.0.0.1:4000/x1", true},
		{"request key over max", sdk.IdentRequestKey, strings.Repeat("k", 161), false},
		{"lease base32", sdk.IdentLease, "abcdefghijklmnopqrstuvwx", true},
		{"lease slash", sdk.IdentLease, "a/b", false},
		{"nonce", sdk.IdentNonce, "Xa9k2LqP0sWv7yHnRt4eZQ", true},
		{"unknown ident", sdk.Ident(99), "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sdk.CheckIdent(tt.k, tt.s)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckIdent(%v, %q) = %v, want ok=%v", tt.k, tt.s, err, tt.ok)
			}
			if err == nil {
				return
			}
			var inv *sdk.InvalidError
			if !errors.Is(err, sdk.ErrInvalid) || !errors.As(err, &inv) || inv.Ident != tt.k {
				t.Fatalf("error %v: want an *InvalidError for %v wrapping ErrInvalid", err, tt.k)
			}
		})
	}
}

func TestCheckoutRequestValidate(t *testing.T) {
	good := sdk.CheckoutRequest{Feature: "f", Client: sdk.Client{User: "u", Host: "h", Addr: "127.0.0.1:1"}}
	if err := good.Validate(); err != nil {
		t.Fatalf("good request: %v", err)
	}
	bad := map[string]func(*sdk.CheckoutRequest){
		"no feature":      func(r *sdk.CheckoutRequest) { r.Feature = "" },
		"vendor":          func(r *sdk.CheckoutRequest) { r.Vendor = "v.*" },
		"version":         func(r *sdk.CheckoutRequest) { r.Version = "1 2" },
		"user":            func(r *sdk.CheckoutRequest) { r.Client.User = "\xff" },
		"host":            func(r *sdk.CheckoutRequest) { r.Client.Host = "\xff" },
		"display":         func(r *sdk.CheckoutRequest) { r.Client.Display = "\xff" },
		"project":         func(r *sdk.CheckoutRequest) { r.Client.Project = "\xff" },
		"addr":            func(r *sdk.CheckoutRequest) { r.Client.Addr = "\xff" },
		"nonce":           func(r *sdk.CheckoutRequest) { r.Nonce = "n n" },
		"request key":     func(r *sdk.CheckoutRequest) { r.RequestKey = "\xff" },
		"negative count":  func(r *sdk.CheckoutRequest) { r.Count = -1 },
		"negative wait":   func(r *sdk.CheckoutRequest) { r.Wait = -time.Second },
		"negative borrow": func(r *sdk.CheckoutRequest) { r.Borrow = -time.Second },
	}
	for name, mutate := range bad {
		t.Run(name, func(t *testing.T) {
			r := good
			mutate(&r)
			if err := r.Validate(); !errors.Is(err, sdk.ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
		})
	}
}

// TestIdentEventBound builds an event-shaped JSON object with every
// identifier at its maximum length made of the character JSON escapes the
// longest way, and checks it stays under MaxEventBytes with room for the
// journal's own fields.
func TestIdentEventBound(t *testing.T) {
	worst := func(k sdk.Ident) string {
		if k.IsText() {
			return strings.Repeat("<", k.MaxLen()) // escaped as \u003c: 6 bytes each
		}
		return strings.Repeat("x", k.MaxLen())
	}
	ev := map[string]any{
		"schema": "licensegw.event/v2", "id": strings.Repeat("i", 64), "time": time.Now().UTC(),
		"kind": "dequeued", "gateway": strings.Repeat("g", 64),
		"vendor": worst(sdk.IdentVendor), "feature": worst(sdk.IdentFeature), "version": worst(sdk.IdentVersion),
		"lease": worst(sdk.IdentLease), "ticket": worst(sdk.IdentTicket), "count": 1<<63 - 1,
		"user": worst(sdk.IdentUser), "host": worst(sdk.IdentHost), "display": worst(sdk.IdentDisplay),
		"project": worst(sdk.IdentProject), "client_addr": worst(sdk.IdentAddr), "request": worst(sdk.IdentRequestKey),
		"protocol": strings.Repeat("p", 64), "plugin": strings.Repeat("p", 64), "reason": strings.Repeat("r", 64),
		"in_use": 1<<31 - 1, "seats": 1<<31 - 1, "queued": 1<<31 - 1, "held_ms": int64(1) << 62,
		"expires": time.Now().UTC(), "bound": true,
		// removed events name who asked; the gateway cuts it at 256 bytes.
		"by": strings.Repeat("<", 256),
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	// Half a kilobyte is left for what later schema versions add (terms,
	// sequence numbers, hashes).
	if len(b) > sdk.MaxEventBytes-512 {
		t.Fatalf("worst-case event is %d bytes, over %d", len(b), sdk.MaxEventBytes-512)
	}
	t.Logf("worst-case event: %d bytes", len(b))
}

func TestIdentsTable(t *testing.T) {
	ids := sdk.Idents()
	if len(ids) != 12 {
		t.Fatalf("%d identifiers, want 12", len(ids))
	}
	for _, k := range ids {
		if k.MaxLen() <= 0 || k.String() == "" || strings.HasPrefix(k.String(), "Ident(") {
			t.Errorf("identifier %d has no rule", int(k))
		}
	}
}

// TestSessionRejectsInvalid sends identifiers that break the rules through
// a real Seats session: each call fails with ErrInvalid, the backend never
// sees it, and the session keeps serving (a string that is not UTF-8 would
// otherwise fail protobuf marshalling and end the stream).
func TestSessionRejectsInvalid(t *testing.T) {
	backend := sdktest.NewSeats(sdktest.Feature{Name: "f", Seats: 1})
	conn, _ := serveSeats(t, backend, nil)
	ended := make(chan error, 1)
	seats := openSession(t, conn, func(err error) { ended <- err })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	calls := map[string]func() error{
		"checkout feature": func() error {
			_, err := seats.Checkout(ctx, sdk.CheckoutRequest{Feature: "f\xff"})
			return err
		},
		"checkout user": func() error {
			_, err := seats.Checkout(ctx, sdk.CheckoutRequest{Feature: "f", Client: sdk.Client{User: "\xc3("}})
			return err
		},
		"heartbeat": func() error { _, err := seats.Heartbeat(ctx, "l\xff"); return err },
		"checkin":   func() error { return seats.Checkin(ctx, "l\xff") },
		"remove":    func() error { return seats.Remove(ctx, "l\xff", sdk.Client{Addr: "test"}) },
		"cancel":    func() error { return seats.Cancel(ctx, "t\xff") },
		"status": func() error {
			_, err := seats.Status(ctx, sdk.StatusQuery{Feature: "\xff"})
			return err
		},
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, sdk.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	co, err := seats.Checkout(ctx, sdk.CheckoutRequest{Feature: "f", Client: sdk.Client{User: "u", Host: "h"}})
	if err != nil || co.Outcome != sdk.Granted {
		t.Fatalf("checkout after the invalid calls: %+v, %v", co, err)
	}
	select {
	case err := <-ended:
		t.Fatalf("session ended: %v", err)
	default:
	}
}

// TestSeatsServerRejectsInvalid: a plugin that does not check (another
// language, an older SDK) gets CODE_INVALID from the gateway side.
func TestSeatsServerRejectsInvalid(t *testing.T) {
	backend := sdktest.NewSeats(sdktest.Feature{Name: "f", Seats: 1})
	conn, _ := serveSeats(t, backend, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := pb.NewSeatsClient(conn).Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req := &pb.Request{Id: 1, Op: &pb.Request_Checkout{Checkout: &pb.CheckoutRequest{
		Feature: "f", Client: &pb.Client{User: strings.Repeat("u", 129)},
	}}}
	if err := stream.Send(&pb.PluginFrame{Requests: []*pb.Request{req}}); err != nil {
		t.Fatal(err)
	}
	f, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	r := f.GetResponses()[0]
	if r.GetError().GetCode() != pb.Error_CODE_INVALID {
		t.Fatalf("response %v, want CODE_INVALID", r)
	}
	if st, _ := backend.Status(ctx, sdk.StatusQuery{Feature: "f"}); st[0].InUse != 0 {
		t.Fatalf("the invalid checkout took a seat: %+v", st[0])
	}
}

// FuzzCheckIdent: whatever passes the rules fits its bound, is UTF-8, and
// marshals as a protobuf string (the failure that used to end sessions).
func FuzzCheckIdent(f *testing.F) {
	for _, s := range []string{"", "f", "a\xff", "José", "a\u202e", strings.Repeat("x", 300)} {
		for _, k := range sdk.Idents() {
			f.Add(int(k), s)
		}
	}
	f.Fuzz(func(t *testing.T, k int, s string) {
		id := sdk.Ident(k)
		if sdk.CheckIdent(id, s) != nil {
			return
		}
		if len(s) > id.MaxLen() || !utf8.ValidString(s) {
			t.Fatalf("%v %q passed", id, s)
		}
		if _, err := proto.Marshal(&pb.Client{User: s}); err != nil {
			t.Fatalf("%v %q passed but does not marshal: %v", id, s, err)
		}
	})
}
