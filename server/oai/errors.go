package oai

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error types, as OpenAI's API spells them.
const (
	TypeInvalidRequest = "invalid_request_error"
	TypeAuthentication = "authentication_error"
	TypeRateLimit      = "rate_limit_error"
	TypeServer         = "server_error"
	TypeTimeout        = "timeout_error"
	TypeUnavailable    = "unavailable_error"
)

// Error is an OpenAI-style error object. Status is the HTTP status it is
// sent with; the rest is the JSON body's "error" member.
type Error struct {
	// Status is the HTTP status code (not serialised).
	Status int `json:"-"`
	// Message says what went wrong and, where it can, how to fix it.
	Message string `json:"message"`
	// Type is one of the Type* constants.
	Type string `json:"type"`
	// Param names the request field at fault, or is nil.
	Param *string `json:"param"`
	// Code is a machine-readable code (e.g. "model_not_found"), or nil.
	Code *string `json:"code"`
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// ErrorBody is the JSON body of an error response: {"error": {...}}.
type ErrorBody struct {
	// Error is the error object.
	Error *Error `json:"error"`
}

// Invalid returns a 400 invalid_request_error about param (may be "").
func Invalid(param, format string, args ...any) *Error {
	return NewError(http.StatusBadRequest, TypeInvalidRequest, param, "", fmt.Sprintf(format, args...))
}

// NewError builds an Error; empty param and code become null.
func NewError(status int, typ, param, code, msg string) *Error {
	e := &Error{Status: status, Message: msg, Type: typ}
	if param != "" {
		e.Param = &param
	}
	if code != "" {
		e.Code = &code
	}
	return e
}

// WithCode returns e with its code set.
func (e *Error) WithCode(code string) *Error {
	e.Code = &code
	return e
}

// decodeError turns an encoding/json error into a 400 naming the field or
// the byte offset at fault.
func decodeError(err error) *Error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var fe *fieldError
	switch {
	case errors.As(err, &fe):
		return Invalid(fe.field, "%s: %s", fe.field, fe.msg)
	case errors.As(err, &syn):
		return Invalid("", "malformed JSON at byte %d: %v", syn.Offset, syn).WithCode("invalid_json")
	case errors.As(err, &typ):
		// Fields of the embedded Common struct are named "Common.x".
		field := strings.TrimPrefix(typ.Field, "Common.")
		if field == "" {
			return Invalid("", "malformed request: the body must be a JSON object, got %s", typ.Value).WithCode("invalid_json")
		}
		return Invalid(field, "%s: expected %s, got JSON %s", field, kindName(typ.Type.Kind().String()), typ.Value)
	case strings.Contains(err.Error(), "unexpected EOF"), strings.Contains(err.Error(), "EOF"):
		return Invalid("", "malformed JSON: the body ends early").WithCode("invalid_json")
	}
	return Invalid("", "malformed JSON: %v", err).WithCode("invalid_json")
}

func kindName(k string) string {
	switch k {
	case "float64", "float32":
		return "a number"
	case "int", "int64", "int32", "uint64":
		return "an integer"
	case "bool":
		return "a boolean"
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	return k
}

// fieldError is returned by the custom unmarshalers of polymorphic fields.
type fieldError struct {
	field, msg string
}

func (e *fieldError) Error() string { return e.field + ": " + e.msg }
