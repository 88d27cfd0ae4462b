package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/remit/remit/domain"
)

// statusOf maps each error class to its HTTP status. It is the only such table.
var statusOf = map[string]int{
	domain.EINVALID:       http.StatusBadRequest,
	domain.EUNAUTHORIZED:  http.StatusUnauthorized,
	domain.EFORBIDDEN:     http.StatusForbidden,
	domain.ENOTFOUND:      http.StatusNotFound,
	domain.ECONFLICT:      http.StatusConflict,
	domain.EINPROGRESS:    http.StatusConflict,
	domain.EIDEMPOTENCY:   http.StatusUnprocessableEntity,
	domain.EUNPROCESSABLE: http.StatusUnprocessableEntity,
	domain.ETOOLARGE:      http.StatusRequestEntityTooLarge,
	domain.ERATELIMITED:   http.StatusTooManyRequests,
	domain.EUNAVAILABLE:   http.StatusServiceUnavailable,
	domain.EINTERNAL:      http.StatusInternalServerError,
	"method_not_allowed":  http.StatusMethodNotAllowed,
}

// ErrorBody is the JSON of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the code, message and, for invalid input, the fields at fault.
type ErrorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// handleError is echo's one error handler: every error of every handler and
// middleware becomes the contract's JSON here. Unknown errors are logged with
// the request id and answered as "internal" without details.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, body := s.errorResponse(err, c)
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = c.JSON(status, body)
}

func (s *Server) errorResponse(err error, c echo.Context) (int, ErrorBody) {
	var de *domain.Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &de):
		status, ok := statusOf[de.Class()]
		if !ok {
			status = http.StatusInternalServerError
		}
		if status == http.StatusInternalServerError {
			break
		}
		return status, ErrorBody{ErrorDetail{Code: de.Code, Message: de.Message, Fields: de.Fields}}
	case errors.As(err, &he):
		switch he.Code {
		case http.StatusNotFound:
			return he.Code, ErrorBody{ErrorDetail{Code: domain.ENOTFOUND, Message: "no such route: " + c.Request().Method + " " + c.Request().URL.Path}}
		case http.StatusMethodNotAllowed:
			return he.Code, ErrorBody{ErrorDetail{Code: "method_not_allowed", Message: "method " + c.Request().Method + " is not allowed on " + c.Request().URL.Path}}
		case http.StatusRequestEntityTooLarge:
			return he.Code, ErrorBody{ErrorDetail{Code: domain.ETOOLARGE, Message: "request body is too large"}}
		}
	}
	s.Logger.LogAttrs(c.Request().Context(), slog.LevelError, "internal error",
		slog.String("request_id", requestIDOf(c)),
		slog.String("method", c.Request().Method), slog.String("path", c.Request().URL.Path),
		slog.String("error", err.Error()))
	return http.StatusInternalServerError, ErrorBody{ErrorDetail{Code: domain.EINTERNAL, Message: "internal error; quote the X-Request-Id header when reporting it"}}
}
