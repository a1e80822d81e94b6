package lex

import (
	"strings"
	"testing"
)

func TestLines(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		want  []string // tokens of each line, joined by |
		pos   []string // position of each line's first token
		diags int
	}{
		{"plain", "A b c\n", []string{"A|b|c"}, []string{"f:1:1"}, 0},
		{"crlf and tabs", "A\tb\r\n\tC d\r\n", []string{"A|b", "C|d"}, []string{"f:1:1", "f:2:2"}, 0},
		{"comment", "# x\n  # y\nA\n", []string{"A"}, []string{"f:3:1"}, 0},
		{"continuation", "A b \\\n   c \\\n# note\n  d\n", []string{"A|b|c|d"}, []string{"f:1:1"}, 0},
		{"blank ends continuation", "A \\\n\nB\n", []string{"A", "B"}, []string{"f:1:1", "f:3:1"}, 0},
		{"quoted", `A K="x y" "p q"` + "\n", []string{"A|K=x y|p q"}, []string{"f:1:1"}, 0},
		{"quoted across lines", "A S=\"1 \\\n  2\"\n", []string{"A|S=1 2"}, []string{"f:1:1"}, 0},
		{"unterminated", "A \"b\n", []string{"A|b"}, []string{"f:1:1"}, 1},
		{"trailing backslash at EOF", "A \\", []string{"A"}, []string{"f:1:1"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sink Sink
			lines := Lines("f", []byte(tt.src), &sink)
			if len(lines) != len(tt.want) {
				t.Fatalf("got %d lines, want %d", len(lines), len(tt.want))
			}
			for i, l := range lines {
				var texts []string
				for _, tok := range l.Tokens {
					texts = append(texts, tok.Text)
				}
				if got := strings.Join(texts, "|"); got != tt.want[i] {
					t.Errorf("line %d = %q, want %q", i, got, tt.want[i])
				}
				if got := l.Pos.String(); got != tt.pos[i] {
					t.Errorf("line %d at %s, want %s", i, got, tt.pos[i])
				}
			}
			if len(sink.List) != tt.diags {
				t.Errorf("diagnostics = %v, want %d", sink.List, tt.diags)
			}
		})
	}
}

func TestTokenKeyValue(t *testing.T) {
	var sink Sink
	lines := Lines("f", []byte(`X NOTICE="a=b c" K= BARE`), &sink)
	toks := lines[0].Tokens
	if !toks[1].HasEq || toks[1].Key != "NOTICE" || toks[1].Value != "a=b c" || !toks[1].Quoted {
		t.Errorf("NOTICE token = %+v", toks[1])
	}
	if !toks[2].HasEq || toks[2].Key != "K" || toks[2].Value != "" {
		t.Errorf("K= token = %+v", toks[2])
	}
	if toks[3].HasEq || toks[3].Text != "BARE" {
		t.Errorf("BARE token = %+v", toks[3])
	}
	if toks[1].Pos.Col != 3 {
		t.Errorf("NOTICE col = %d, want 3", toks[1].Pos.Col)
	}
}
