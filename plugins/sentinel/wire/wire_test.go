package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 26, 9, 14, 40, 0, time.UTC)

func TestRequestRoundTrip(t *testing.T) {
	tests := []Request{
		{ID: 1, Type: Checkout, Feature: "cad_pro", Version: "2024.1", Count: 2, Queue: true, Wait: time.Hour, User: "alice", Host: "ws-01", Display: ":0"},
		{ID: 2, Type: Commute, Feature: "solver", Count: 1, Days: 14, User: "bob", Host: "lap-7"},
		{ID: 3, Type: Refresh, Handle: "01JD5S3Z9K0000000000000000"},
		{ID: 4, Type: Release, Handle: "L1"},
		{ID: 5, Type: Return, Handle: "L2"},
		{ID: 6, Type: Poll, Handle: "T1"},
		{ID: 7, Type: Cancel, Handle: "T2"},
		{ID: 8, Type: Features, Feature: "cad_pro", Cursor: 3},
		{ID: 9, Type: Clients, Feature: "cad_pro", Version: "2024.1", Cursor: 70},
		{ID: 1<<64 - 1, Type: Discover, Feature: "cad_pro"},
		{ID: 0, Type: Discover},
	}
	for _, want := range tests {
		t.Run(want.Type.String(), func(t *testing.T) {
			b, err := EncodeRequest(&want, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != MinRequest {
				t.Errorf("encoded %d bytes, want padding to %d", len(b), MinRequest)
			}
			got, err := DecodeRequest(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got %+v\nwant %+v", *got, want)
			}
		})
	}
}

// TestRequestBytes pins the example of docs/sentinel.md.
func TestRequestBytes(t *testing.T) {
	r := Request{ID: 0x0102030405060708, Type: Checkout, Feature: "cad", Count: 1, User: "al", Host: "h1"}
	b, err := EncodeRequest(&r, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := "4c5301010102030405060708" + "03636164" + "00" + "0001" + "00" + "00000000" + "02616c" + "026831" + "00"
	if got := hex.EncodeToString(b[:31]); got != want {
		t.Errorf("bytes %s\nwant  %s", got, want)
	}
	if !bytes.Equal(b[31:], make([]byte, MinRequest-31)) {
		t.Errorf("padding is not zero: %x", b[31:])
	}
}

func TestResponseRoundTrip(t *testing.T) {
	grant := Grant{Handle: "L1", Count: 2, Lifetime: 300 * time.Second, Expires: t0, Commuter: true}
	feat := Feature{Name: "cad_pro", Version: "2024.1", Commuter: true, Queue: true, MaxUsers: 10,
		UnreservedInUse: 3, UnreservedFree: 5, ReservedFree: 2, Queued: 1, CommuterInUse: 1,
		Lifetime: 300 * time.Second, MaxCommuterDays: 30, Start: t0, Expiration: t0.AddDate(1, 0, 0)}
	client := Client{User: "alice", Host: "ws-01", Display: "ws-01", Group: "designers", Count: 1, Granted: t0, Expires: t0.Add(time.Minute)}
	tests := []struct {
		name string
		r    Response
	}{
		{"grant", Response{ID: 1, Type: Checkout, Status: OK, Grant: grant}},
		{"poll grant", Response{ID: 1, Type: Poll, Status: OK, Grant: grant}},
		{"refresh", Response{ID: 2, Type: Refresh, Status: OK, Grant: Grant{Lifetime: time.Minute, Expires: t0}}},
		{"queued", Response{ID: 3, Type: Checkout, Status: Queued, Ticket: "T9", Position: 4}},
		{"denied", Response{ID: 4, Type: Checkout, Status: NoSeats, InUse: 10, Seats: 10}},
		{"gone", Response{ID: 5, Type: Refresh, Status: Gone, Reason: "expired"}},
		{"dequeued", Response{ID: 5, Type: Poll, Status: Dequeued, Reason: "cancelled"}},
		{"released", Response{ID: 6, Type: Release, Status: OK}},
		{"too large", Response{ID: 6, Type: Features, Status: TooLarge}},
		{"discover", Response{ID: 7, Type: Discover, Status: OK, Server: Server{Name: "gw", Version: "1.0", Storage: "/etc/x.rsv", Features: 3}}},
		{"features", Response{ID: 8, Type: Features, Status: OK, Total: 1, Next: NoMore, Features: []Feature{feat}}},
		{"clients", Response{ID: 9, Type: Clients, Status: OK, Total: 1, Next: NoMore, Clients: []Client{client}}},
		{"empty list", Response{ID: 9, Type: Clients, Status: OK, Total: 0, Next: NoMore}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := EncodeResponse(&tt.r, 0, MaxDatagram)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeResponse(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.r) {
				t.Errorf("got %+v\nwant %+v", *got, tt.r)
			}
		})
	}
}

// TestFixedAnswersFit checks that every answer but a list or Discover fits
// three times the smallest request, whatever its strings.
func TestFixedAnswersFit(t *testing.T) {
	long := strings.Repeat("x", MaxString)
	for _, r := range []Response{
		{Type: Checkout, Status: OK, Grant: Grant{Handle: long, Count: 1 << 20, Lifetime: 1 << 62, Expires: t0}},
		{Type: Poll, Status: Queued, Ticket: long, Position: 99999},
		{Type: Refresh, Status: Gone, Reason: long},
		{Type: Commute, Status: CommuterRefused, InUse: 1, Seats: 2},
	} {
		if _, err := EncodeResponse(&r, 0, Amplification*MinRequest); err != nil {
			t.Errorf("%v %v: %v", r.Type, r.Status, err)
		}
	}
}

func TestListPaging(t *testing.T) {
	var fs []Feature
	for i := range 40 {
		fs = append(fs, Feature{Name: strings.Repeat("f", 20) + string(rune('a'+i%26)), Version: "1.0"})
	}
	r := Response{ID: 1, Type: Features, Status: OK, Total: 100, Features: fs}
	for _, limit := range []int{Amplification * MinRequest, 600, MaxDatagram} {
		b, err := EncodeResponse(&r, 50, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > limit {
			t.Fatalf("limit %d: %d bytes", limit, len(b))
		}
		got, err := DecodeResponse(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Features) == 0 || got.Next != 50+len(got.Features) || got.Total != 100 {
			t.Errorf("limit %d: %d records, next %d, total %d", limit, len(got.Features), got.Next, got.Total)
		}
		if !reflect.DeepEqual(got.Features, fs[:len(got.Features)]) {
			t.Errorf("limit %d: records differ", limit)
		}
	}
	// The last page says NoMore.
	r.Total = 51
	b, err := EncodeResponse(&r, 50, MaxDatagram)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := DecodeResponse(b); got.Next != NoMore {
		t.Errorf("last page next = %d, want NoMore", got.Next)
	}
	// A record that cannot fit is ErrTooLarge.
	if _, err := EncodeResponse(&r, 0, 40); !errors.Is(err, ErrTooLarge) {
		t.Errorf("tiny limit: %v, want ErrTooLarge", err)
	}
}

func TestEncodeErrors(t *testing.T) {
	if _, err := EncodeRequest(&Request{Type: Checkout, Feature: strings.Repeat("x", MaxString+1)}, 0); !errors.Is(err, ErrTooLarge) {
		t.Errorf("long feature: %v", err)
	}
	if _, err := EncodeRequest(&Request{Type: 0x7f}, 0); err == nil {
		t.Error("unknown type encoded")
	}
	if b, err := EncodeRequest(&Request{Type: Features}, 5000); err != nil || len(b) != MaxDatagram {
		t.Errorf("padding beyond MaxDatagram: %d bytes, %v", len(b), err)
	}
}

func TestDecodeMalformed(t *testing.T) {
	valid, err := EncodeRequest(&Request{ID: 1, Type: Refresh, Handle: "L1"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(valid)) }
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short header", valid[:11]},
		{"bad magic", mut(func(b []byte) []byte { b[0] = 'X'; return b })},
		{"bad version", mut(func(b []byte) []byte { b[2] = 2; return b })},
		{"unknown type", mut(func(b []byte) []byte { b[3] = 0x33; return b })},
		{"answer type", mut(func(b []byte) []byte { b[3] |= byte(Answer); return b })},
		{"unpadded", valid[:20]},
		{"long string", mut(func(b []byte) []byte { b[12] = MaxString + 1; return b })},
		{"dirty padding", mut(func(b []byte) []byte { b[63] = 1; return b })},
		{"oversize", append(bytes.Clone(valid), make([]byte, MaxDatagram)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r, err := DecodeRequest(tt.b); !errors.Is(err, ErrMalformed) {
				t.Errorf("DecodeRequest = %+v, %v; want ErrMalformed", r, err)
			}
		})
	}
	ans, err := EncodeResponse(&Response{ID: 1, Type: Checkout, Status: Queued, Ticket: "T"}, 0, MaxDatagram)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"truncated":      ans[:len(ans)-1],
		"trailing":       append(bytes.Clone(ans), 0),
		"request type":   append(bytes.Clone(ans[:3]), append([]byte{byte(Checkout)}, ans[4:]...)...),
		"unknown status": append(bytes.Clone(ans[:12]), 99),
	} {
		if r, err := DecodeResponse(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: DecodeResponse = %+v, %v; want ErrMalformed", name, r, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, r := range []Request{
		{ID: 1, Type: Checkout, Feature: "cad", Version: "1", Count: 2, Queue: true, User: "u", Host: "h"},
		{ID: 2, Type: Clients, Feature: "cad", Cursor: 3},
		{ID: 3, Type: Release, Handle: "L"},
	} {
		b, _ := EncodeRequest(&r, 0)
		f.Add(b)
	}
	for _, r := range []Response{
		{ID: 1, Type: Checkout, Status: OK, Grant: Grant{Handle: "L", Count: 1, Expires: t0}},
		{ID: 2, Type: Features, Status: OK, Total: 1, Features: []Feature{{Name: "cad", Start: t0}}},
		{ID: 3, Type: Clients, Status: OK, Total: 1, Clients: []Client{{User: "u", Granted: t0}}},
	} {
		b, _ := EncodeResponse(&r, 0, MaxDatagram)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := DecodeRequest(b); err == nil {
			again, err := EncodeRequest(r, len(b))
			if err != nil {
				t.Fatalf("re-encode %+v: %v", r, err)
			}
			r2, err := DecodeRequest(again)
			if err != nil || !reflect.DeepEqual(r, r2) {
				t.Fatalf("round trip: %+v, %v; want %+v", r2, err, r)
			}
			if dirty, err := AppendRequest([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, r, len(b)); err != nil || !bytes.Equal(dirty, again) {
				t.Fatalf("AppendRequest into a used buffer %x, %v; want %x", dirty, err, again)
			}
			// A server's decoding into a reused request, with interned
			// names, sees the same request.
			reused := Request{Feature: "old", Handle: "old", Cursor: 9}
			names := map[string]string{}
			intern := func(b []byte) string {
				if s, ok := names[string(b)]; ok {
					return s
				}
				names[string(b)] = string(b)
				return string(b)
			}
			for range 2 {
				if err := DecodeRequestInto(b, &reused, intern); err != nil || !reflect.DeepEqual(r, &reused) {
					t.Fatalf("into a reused request: %+v, %v; want %+v", reused, err, r)
				}
			}
		} else if !errors.Is(err, ErrMalformed) {
			t.Fatalf("DecodeRequest error %v does not wrap ErrMalformed", err)
		}
		if r, err := DecodeResponse(b); err == nil {
			cursor := 0
			if r.Next != NoMore {
				cursor = r.Next - len(r.Features) - len(r.Clients)
			}
			again, err := EncodeResponse(r, cursor, MaxDatagram)
			if err != nil {
				t.Fatalf("re-encode %+v: %v", r, err)
			}
			if len(again) > len(b) {
				t.Fatalf("re-encoded %d bytes from %d", len(again), len(b))
			}
			// The content survives: what was decoded decodes again the
			// same, but for a list's Next, which the encoder derives from
			// the cursor, the records and the total.
			r2, err := DecodeResponse(again)
			if err != nil {
				t.Fatalf("re-encoded response does not decode: %v", err)
			}
			reused := Response{Ticket: "old", Features: []Feature{{Name: "old"}}}
			if err := DecodeResponseInto(b, &reused); err != nil || !reflect.DeepEqual(r, &reused) {
				t.Fatalf("into a reused response: %+v, %v; want %+v", reused, err, r)
			}
			if again2, err := AppendResponse(make([]byte, 3, 7), r, cursor, MaxDatagram); err != nil || !bytes.Equal(again2, again) {
				t.Fatalf("AppendResponse %x, %v; EncodeResponse %x", again2, err, again)
			}
			want := *r
			if r.Status == OK && (r.Type&^Answer == Features || r.Type&^Answer == Clients) {
				if want.Next = cursor + len(r.Features) + len(r.Clients); want.Next >= r.Total {
					want.Next = NoMore
				}
			}
			if !reflect.DeepEqual(&want, r2) {
				t.Fatalf("response round trip: %+v; want %+v", r2, &want)
			}
		} else if !errors.Is(err, ErrMalformed) {
			t.Fatalf("DecodeResponse error %v does not wrap ErrMalformed", err)
		}
	})
}
