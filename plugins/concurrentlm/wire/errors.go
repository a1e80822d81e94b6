package wire

import "errors"

// The ERR codes of CLM/1.
const (
	CodeBadRequest      = "bad-request"
	CodeUnknownVerb     = "unknown-verb"
	CodeLineTooLong     = "line-too-long"
	CodeTooManyRequests = "too-many-requests"
	CodeTooLarge        = "too-large"
	CodeUnavailable     = "unavailable"
	CodeInternal        = "internal"
	// CodeNotAuthorized answers a STATUS from an address the plugin
	// block's status_allow does not list (added to the contract's codes).
	CodeNotAuthorized = "not-authorized"
)

// Error is a protocol error: the ERR line to answer with.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return "clm: " + e.Code + ": " + e.Message }

// Is matches another *Error with the same Code, so
// errors.Is(err, ErrLineTooLong) works on any line-too-long error.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

func errorf(code, msg string) *Error { return &Error{Code: code, Message: msg} }

var (
	// ErrEmptyLine is returned by ParseLine for a blank line, which a
	// server skips without answering.
	ErrEmptyLine = errors.New("clm: empty line")
	// ErrLineTooLong is a line over MaxLine bytes.
	ErrLineTooLong error = &Error{Code: CodeLineTooLong, Message: "line longer than 4096 bytes"}
)
