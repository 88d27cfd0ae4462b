package api

import (
	_ "embed"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"sigs.k8s.io/yaml"
)

// OpenAPIYAML is the OpenAPI 3 description of every route, kept beside the
// code; a test fails when it and the registered routes disagree.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte

// OpenAPIJSON is OpenAPIYAML as JSON, converted once at start.
var OpenAPIJSON = func() []byte {
	j, err := yaml.YAMLToJSON(OpenAPIYAML)
	if err != nil {
		panic("api/openapi.yaml is not valid YAML: " + err.Error())
	}
	return j
}()

func (s *Server) handleOpenAPI(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	if strings.HasSuffix(c.Path(), ".yaml") {
		return c.Blob(http.StatusOK, "application/yaml", OpenAPIYAML)
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, OpenAPIJSON)
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
