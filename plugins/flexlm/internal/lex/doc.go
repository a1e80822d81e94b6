// Package lex is the lexical layer shared by the FlexLM licence-file and
// options-file parsers: it joins continuation lines, drops comments and
// splits logical lines into tokens that remember their file:line:col, so
// both parsers report positions the same way.
package lex
