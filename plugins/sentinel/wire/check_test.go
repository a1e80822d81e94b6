package wire

import (
	"errors"
	"testing"
)

func TestRequestCheck(t *testing.T) {
	fields := map[string]func(*Request){
		"feature": func(r *Request) { r.Feature = "\xff" },
		"version": func(r *Request) { r.Version = "\xff" },
		"user":    func(r *Request) { r.User = "a\xc3" },
		"host":    func(r *Request) { r.Host = "\xed\xa0\x80" },
		"display": func(r *Request) { r.Display = "\x80" },
		"handle":  func(r *Request) { r.Handle = "\xfe" },
	}
	good := Request{ID: 1, Type: Checkout, Feature: "cad", User: "José", Host: "h"}
	if err := good.Check(); err != nil {
		t.Fatalf("good request: %v", err)
	}
	for name, bad := range fields {
		r := good
		bad(&r)
		// It still encodes and decodes: the strings are the right length.
		b, err := EncodeRequest(&r, MinRequest)
		if err != nil {
			t.Fatalf("%s: encode: %v", name, err)
		}
		back, err := DecodeRequest(b)
		if err != nil {
			if name == "handle" {
				continue // a checkout carries no handle
			}
			t.Fatalf("%s: decode: %v", name, err)
		}
		if name == "handle" {
			back.Handle = r.Handle
		}
		if err := back.Check(); !errors.Is(err, ErrNotText) {
			t.Errorf("%s: Check = %v, want ErrNotText", name, err)
		}
	}
}
