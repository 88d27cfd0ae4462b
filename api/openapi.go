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
// Echo's parameter names run to the next slash, so :event_id.pdf, whose
// value keeps the suffix, is OpenAPI's {event_id}.pdf.
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if name, ok := strings.CutPrefix(part, ":"); ok {
			name, ext, _ := strings.Cut(name, ".")
			parts[i] = "{" + name + "}"
			if ext != "" {
				parts[i] += "." + ext
			}
		}
	}
	return strings.Join(parts, "/")
}
