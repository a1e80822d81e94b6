package wire

import (
	"errors"
	"testing"
)

func TestCheck(t *testing.T) {
	short := New(Checkout, 1).Str(TFeature, "f")
	short.Fields = append(short.Fields, Field{Tag: TCount, Value: []byte{0, 0, 0, 5}})
	tests := []struct {
		name string
		f    *Frame
		ok   bool
	}{
		{"good checkout", New(Checkout, 1).Str(TFeature, "f").Int(TCount, 2).Str(TUser, "José"), true},
		{"unknown tag not checked", &Frame{Type: Checkout, ID: 1, Fields: []Field{{Tag: 200, Value: []byte{0xff}}}}, true},
		{"answer with id 0 (unsolicited)", New(Error, 0).Int(TCode, -97), true},
		{"request id 0", New(Checkout, 0).Str(TFeature, "f"), false},
		{"feature not UTF-8", New(Checkout, 1).Str(TFeature, "f\xff"), false},
		{"project not UTF-8", New(Checkout, 1).Str(TFeature, "f").Str(TProject, "\xc3("), false},
		{"program not UTF-8", New(Hello, 1).Str(TProgram, "\xed\xa0\x80"), false},
		{"4-byte integer", short, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.f.Check()
			if (err == nil) != tt.ok {
				t.Fatalf("Check = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrBadField) {
				t.Fatalf("%v does not wrap ErrBadField", err)
			}
		})
	}
}
