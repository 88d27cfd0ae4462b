package api

import (
	_ "embed"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// OpenAPIDocument is the OpenAPI 3 description of every route, kept beside
// the code; a test fails when it and the registered routes disagree.
//
//go:embed openapi.json
var OpenAPIDocument []byte

func (s *Server) handleOpenAPI(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, OpenAPIDocument)
}

// openAPIPath turns echo's /v1/clients/:id into OpenAPI's /v1/clients/{id}.
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if strings.HasPrefix(part, ":") {
			parts[i] = "{" + part[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}
