package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/labstack/echo/v4"

	"github.com/remit/remit/domain"
)

// bodyKey is where readBody caches the request body in the echo context.
const bodyKey = "remit.body"

// readBody returns the request body, read once through the size cap set by
// the bodyLimit middleware and cached for later readers.
func readBody(c echo.Context) ([]byte, error) {
	if b, ok := c.Get(bodyKey).([]byte); ok {
		return b, nil
	}
	b, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, domain.Errorf(domain.ETOOLARGE, "request body is larger than %d bytes", tooLarge.Limit)
		}
		return nil, domain.Errorf(domain.EINVALID, "could not read request body")
	}
	c.Set(bodyKey, b)
	return b, nil
}

// bind decodes the JSON body into v, refusing unknown fields, duplicate
// names, trailing data and type mismatches with an EINVALID error that names
// the field.
func bind(c echo.Context, v any) error {
	b, err := readBody(c)
	if err != nil {
		return err
	}
	switch string(bytes.TrimSpace(b)) {
	case "":
		return domain.Errorf(domain.EINVALID, "request body is required: send a JSON object")
	case "null": // would decode as no change at all
		return domain.Errorf(domain.EINVALID, "request body must be a JSON object")
	}
	if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" && !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return &domain.Error{Code: domain.EINVALID, Message: "Content-Type must be application/json",
			Fields: map[string]string{"Content-Type": "must be application/json"}}
	}
	return decodeJSON(b, v)
}

// decodeJSON is bind without the request: strict decoding of b into v.
func decodeJSON(b []byte, v any) error {
	err := json.Unmarshal(b, v, json.RejectUnknownMembers(true))
	if err == nil {
		return checkStrings(b)
	}
	var de *domain.Error
	if errors.As(err, &de) {
		// A domain type's UnmarshalJSON refused the value; name the field.
		var se *json.SemanticError
		if errors.As(err, &se) && len(se.JSONPointer) > 0 {
			field := fieldName(se.JSONPointer)
			return &domain.Error{Code: domain.EINVALID, Message: field + ": " + de.Message, Fields: map[string]string{field: de.Message}}
		}
		return de
	}
	var se *json.SemanticError
	if errors.As(err, &se) {
		field := fieldName(se.JSONPointer)
		switch {
		case errors.Is(se.Err, json.ErrUnknownName):
			return &domain.Error{Code: domain.EINVALID, Message: fmt.Sprintf("unknown field %q", field),
				Fields: map[string]string{field: "unknown field"}}
		case field == "":
			return domain.Errorf(domain.EINVALID, "request body must be a JSON object")
		default:
			want := "a valid value"
			if se.GoType != nil {
				want = jsonKindOf(se.GoType.String())
			}
			return &domain.Error{Code: domain.EINVALID, Message: fmt.Sprintf("%s: must be %s", field, want),
				Fields: map[string]string{field: "must be " + want}}
		}
	}
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) {
		if field := fieldName(syn.JSONPointer); field != "" {
			// Within a value, such as a string that is not valid UTF-8.
			msg := fmt.Sprintf("malformed JSON at byte %d: %v", syn.ByteOffset, syn.Err)
			return &domain.Error{Code: domain.EINVALID, Message: field + ": " + msg, Fields: map[string]string{field: msg}}
		}
		return domain.Errorf(domain.EINVALID, "malformed JSON at byte %d", syn.ByteOffset)
	}
	return domain.Errorf(domain.EINVALID, "malformed JSON")
}

// checkStrings refuses a body any of whose strings, anywhere, is not text
// (domain.TextProblem, multi-line allowed), naming the first such field.
// Each type's Validate holds its own fields to the stricter one-line rule
// where it applies; this catches the rest (ids, enumerations, keys), which
// would otherwise reach the database, and PostgreSQL refuses NUL in text.
func checkStrings(b []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil // the body decoded already: this is its end
		}
		if tok.Kind() != '"' {
			continue
		}
		if p := domain.TextProblem(tok.String(), true); p != "" {
			field := fieldName(dec.StackPointer())
			return &domain.Error{Code: domain.EINVALID, Message: field + ": " + p, Fields: map[string]string{field: p}}
		}
	}
}

// checkParams refuses path and query parameters that are not one line of
// text, naming the parameter.
func checkParams(c echo.Context) error {
	for i, name := range c.ParamNames() {
		if i < len(c.ParamValues()) {
			if p := domain.TextProblem(c.ParamValues()[i], false); p != "" {
				return fieldError(name, "%s", p)
			}
		}
	}
	for name, values := range c.QueryParams() {
		for _, v := range append([]string{name}, values...) {
			if p := domain.TextProblem(v, false); p != "" {
				return fieldError(name, "%s", p)
			}
		}
	}
	return nil
}

// fieldName turns a JSON pointer such as /lines/2/quantity into lines[2].quantity.
func fieldName(p jsontext.Pointer) string {
	var sb strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil {
			sb.WriteString("[" + tok + "]")
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(tok)
	}
	return sb.String()
}

// jsonKindOf names the JSON shape a Go type expects, for error messages.
func jsonKindOf(goType string) string {
	t := strings.TrimLeft(goType, "*")
	switch {
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "an integer"
	case t == "string":
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "[]"):
		return "an array"
	case strings.HasPrefix(t, "map["):
		return "an object"
	case t == "domain.Date":
		return "a date YYYY-MM-DD"
	}
	return "an object"
}

// pageParams reads ?limit= and ?starting_after= with the contract's bounds.
func pageParams(c echo.Context) (domain.PageParams, error) {
	p := domain.PageParams{Limit: domain.DefaultPageLimit, StartingAfter: c.QueryParam("starting_after")}
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > domain.MaxPageLimit {
			return p, &domain.Error{Code: domain.EINVALID, Message: fmt.Sprintf("limit: must be an integer from 1 to %d", domain.MaxPageLimit),
				Fields: map[string]string{"limit": fmt.Sprintf("must be an integer from 1 to %d", domain.MaxPageLimit)}}
		}
		p.Limit = n
	}
	if len(p.StartingAfter) > 64 {
		return p, &domain.Error{Code: domain.EINVALID, Message: "starting_after: must be an id from a previous page",
			Fields: map[string]string{"starting_after": "must be an id from a previous page"}}
	}
	return p, nil
}

// fieldError returns an EINVALID error for one field.
func fieldError(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &domain.Error{Code: domain.EINVALID, Message: field + ": " + msg, Fields: map[string]string{field: msg}}
}
