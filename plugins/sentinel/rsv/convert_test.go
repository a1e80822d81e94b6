package rsv

import (
	"testing"
)

func mustParse(t *testing.T, text string) *File {
	t.Helper()
	f, err := Parse("t.rsv", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestLoad(t *testing.T) {
	p, err := Load("testdata/example.rsv")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Reservations) != 2 || p.Groups["night-shift"].Exclude[0] != "dave" {
		t.Errorf("Load = %+v", p)
	}
	if _, err := Load("testdata/none.rsv"); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}
