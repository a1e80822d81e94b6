package config

import "testing"

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		`a"b`:    `"a\"b"`,
		`${x}`:   `"$${x}"`,
		`%{x}`:   `"%%{x}"`,
		"t\tab":  `"t\tab"`,
		`back\s`: `"back\\s"`,
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
}
