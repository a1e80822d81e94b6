package lex

import (
	"bytes"
	"strings"
)

// Token is one whitespace-separated word of a logical line. Quotes group
// words ("Acme Corp") and are removed from Text and Value; a token of the
// form KEY=VALUE (the '=' outside quotes) also has Key and Value set.
type Token struct {
	Pos    Pos
	Raw    string // as written, quotes included
	Text   string // Raw without its quotes
	Key    string // before the first unquoted '=', when HasEq
	Value  string // after it, unquoted
	HasEq  bool
	Quoted bool // whether any part was quoted
}

// Line is a logical line: physical lines joined at trailing backslashes.
type Line struct {
	Pos    Pos // of the first token
	Tokens []Token
	Bad    bool // a lexical error was reported for it; parsers skip it
}

// Lines splits src into logical lines. Comment lines (first non-blank
// character '#') are dropped, also in the middle of a continuation, which
// then carries on; a blank line ends a continuation. CRLF endings are
// accepted. Problems (an unterminated quote, a backslash on the last line)
// are reported in sink.
func Lines(file string, src []byte, sink *Sink) []Line {
	var (
		out     []Line
		buf     []byte // the logical line being built
		pos     []Pos  // the source position of each byte of buf
		cont    bool   // the previous physical line ended with a backslash
		contPos Pos
	)
	flush := func() {
		if toks, ok := tokenize(buf, pos, sink); len(toks) > 0 {
			out = append(out, Line{Pos: toks[0].Pos, Tokens: toks, Bad: !ok})
		}
		buf, pos = buf[:0], pos[:0]
	}
	lineNo := 0
	for len(src) > 0 {
		lineNo++
		var phys []byte
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			phys, src = src[:i], src[i+1:]
		} else {
			phys, src = src, nil
		}
		phys = bytes.TrimSuffix(phys, []byte{'\r'})
		trimmed := bytes.TrimLeft(phys, " \t\f\v")
		if len(trimmed) > 0 && trimmed[0] == '#' {
			continue // a comment, even inside a continuation
		}
		if len(bytes.TrimSpace(phys)) == 0 {
			if cont {
				flush()
				cont = false
			}
			continue
		}
		off := 0
		if cont {
			// A continued line's indentation is not part of the value: the
			// joint already stands for it.
			off = len(phys) - len(trimmed)
		}
		body := bytes.TrimRight(phys, " \t\f\v")
		cont = len(body) > 0 && body[len(body)-1] == '\\'
		if cont {
			contPos = Pos{File: file, Line: lineNo, Col: len(body)}
			body = bytes.TrimRight(body[:len(body)-1], " \t\f\v")
		}
		for i := off; i < len(body); i++ {
			c := body[i]
			buf = append(buf, c)
			pos = append(pos, Pos{File: file, Line: lineNo, Col: i + 1})
		}
		if cont {
			// The joint is whitespace, as in FlexLM, unless it falls inside a
			// quoted value (SIGN="AAAA \ BBBB"), where whitespace is kept too.
			buf = append(buf, ' ')
			pos = append(pos, contPos)
			continue
		}
		flush()
	}
	if cont {
		sink.Add(contPos, Warning, "continuation backslash on the last line")
		flush()
	}
	return out
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == '\r' }

// tokenize splits one logical line into tokens.
func tokenize(buf []byte, pos []Pos, sink *Sink) ([]Token, bool) {
	var toks []Token
	ok := true
	i := 0
	for i < len(buf) {
		if isSpace(buf[i]) {
			i++
			continue
		}
		start := i
		var (
			text   strings.Builder
			key    string
			value  strings.Builder
			hasEq  bool
			quoted bool
			inQ    bool
		)
		for i < len(buf) && (inQ || !isSpace(buf[i])) {
			c := buf[i]
			switch {
			case c == '"':
				inQ = !inQ
				quoted = true
			case c == '=' && !inQ && !hasEq:
				hasEq = true
				key = text.String()
				text.WriteByte(c)
				i++
				continue
			default:
				text.WriteByte(c)
				if hasEq {
					value.WriteByte(c)
				}
			}
			i++
		}
		if inQ {
			sink.Add(pos[start], Error, "unterminated quoted value %q", string(buf[start:i]))
			ok = false
		}
		toks = append(toks, Token{
			Pos: pos[start], Raw: string(buf[start:i]), Text: text.String(),
			Key: key, Value: value.String(), HasEq: hasEq, Quoted: quoted,
		})
	}
	return toks, ok
}
