package journal

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/licensegw/licensegw/gateway/events"
)

func sampleEvents() []events.Event {
	held := int64(1500)
	until := time.Date(2026, 12, 1, 8, 0, 0, 123456789, time.UTC)
	return []events.Event{
		{},
		{
			Schema: events.Schema, ID: "01JDX", Time: time.Date(2026, 11, 26, 20, 35, 58, 0, time.FixedZone("X", 3600)),
			Kind: events.Checkin, Gateway: "gw", Vendor: "acme", Feature: "cad pro", Version: "2024.1", Lease: "L1", Ticket: "T",
			Count: 2, User: "alice", Host: "ws", Display: ":0", Protocol: "flexlm", Plugin: "p", Client: "127.0.0.1:5",
			Reason: "r", InUse: -3, Seats: 10, Queued: 1, HeldMS: &held, Expires: &until, Project: "x", Bound: true, Request: "clm-udp/10.0.0.1:9/r1",
			By: "plugin flexlm (flexlm) client 127.0.0.1:7 a@b", Truncated: true, Term: 7, Idx: 42, Node: "gw-2", ConnNode: "gw-3",
		},
		{Kind: events.TermKind, Term: 3, Idx: 0, Node: "gw-1", Prev: zeroHash},
		{Schema: events.SealSchema, Kind: events.SealKind, Term: 3, Idx: 9, Node: "gw-1", Count: 12, Prev: zeroHash, Head: zeroHash, Sig: "c2ln"},
		{Kind: events.Denied, Feature: "ünïcode ✓", User: "a<b>&c", Reason: "quote \" back\\ slash\nnewline"},
		{Kind: events.Checkout, User: "sep\u2028", Host: "bad\xffutf8"},
	}
}

func TestEncodeEventMatchesMarshalJSON(t *testing.T) {
	for i, ev := range sampleEvents() {
		want, err := ev.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		got, err := encodeEvent(&ev)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("event %d:\n got %s, %v\nwant %s", i, got, err, want)
		}
	}
}

func TestDecodeEventMatchesUnmarshal(t *testing.T) {
	inputs := []string{
		` { "kind" : "checkout" , "seats" : 5 , "time" : "2026-01-02T03:04:05.5+01:00" } `,
		`{"held_ms":null,"expires":null}`,
		`{"ID":"case-insensitive key"}`,
		`{"id":"escaped \u0041"}`,
		`{"seats":1.0}`,
		`{"seats":01}`,
		`{"seats":null}`,
		`{"unknown":[1,{"a":2}],"id":"x"}`,
		`{"id":"x"} trailing`,
		`{"id":"x",}`,
		`{"count":-0}`,
		`{"count":99999999999999999999}`,
		`{"time":"not a time"}`,
		`[]`,
		``,
	}
	for _, ev := range sampleEvents() {
		b, _ := json.Marshal(ev)
		inputs = append(inputs, string(b))
	}
	for _, in := range inputs {
		checkDecode(t, []byte(in))
	}
}

// checkDecode asserts decodeEvent gives exactly what json.Unmarshal gives.
func checkDecode(t *testing.T, data []byte) {
	t.Helper()
	var got, want events.Event
	errGot := decodeEvent(data, &got, make(interner))
	errWant := json.Unmarshal(data, &want)
	if (errGot == nil) != (errWant == nil) {
		t.Fatalf("%q: decodeEvent error %v, json.Unmarshal error %v", data, errGot, errWant)
	}
	if errWant == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %+v\nwant %+v", data, got, want)
	}
}

func FuzzDecodeEvent(f *testing.F) {
	for _, ev := range sampleEvents() {
		b, _ := ev.MarshalJSON()
		f.Add(b)
	}
	f.Add([]byte(`{"kind":"queued","ticket":"T1","queued":3,"time":"2026-11-26T20:00:00.000001Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data)
	})
}

func FuzzEncodeEvent(f *testing.F) {
	f.Add("01JDX", "acme", "cad pro", "alice", "<&>", int64(3), int64(1700000000000000000), true)
	f.Add("", "", "", "", "\xff", int64(-1), int64(0), false)
	f.Fuzz(func(t *testing.T, id, vendor, feature, user, reason string, n, nanos int64, optional bool) {
		ev := events.Event{
			Schema: events.Schema, ID: id, Kind: events.Kind(reason), Vendor: vendor, Feature: feature,
			User: user, Reason: reason, Count: int(n), InUse: int(n / 2), Time: time.Unix(0, nanos),
		}
		if optional {
			ev.HeldMS = &n
			ev.Expires = &ev.Time
			ev.Project = user
			ev.Term, ev.Idx, ev.Node = uint64(nanos)>>40, uint64(n)&0xffff, vendor
			ev.Prev, ev.Head, ev.Sig = user, reason, feature
		}
		want, err := ev.MarshalJSON()
		if err != nil {
			t.Skip(err) // e.g. a year beyond 9999
		}
		got, err := encodeEvent(&ev)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("encodeEvent = %s, %v\nMarshalJSON = %s", got, err, want)
		}
		checkDecode(t, got)
		if ev.Prev != "" {
			// The publisher's way: prev given apart, into a used buffer.
			apart := ev
			apart.Prev = ""
			got, err := encodeEventTo([]byte("left over"), &apart, []byte(ev.Prev))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("encodeEventTo with prev apart = %s, %v\nMarshalJSON = %s", got, err, want)
			}
		}
	})
}

func BenchmarkDecodeEvent(b *testing.B) {
	ev := sampleEvents()[1]
	data, _ := ev.MarshalJSON()
	for _, bc := range []struct {
		name  string
		names func() interner
	}{
		{"plain", func() interner { return nil }},
		{"interned", func() interner { return make(interner) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			names := bc.names()
			b.ReportAllocs()
			for b.Loop() {
				var e events.Event
				if err := decodeEvent(data, &e, names); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e events.Event
			if err := json.Unmarshal(data, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncodeEvent(b *testing.B) {
	ev := sampleEvents()[1]
	b.Run("appendEvent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeEvent(&ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("MarshalJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ev.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
