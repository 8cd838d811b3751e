// Package forms holds the bundled questionnaire templates (XLSForm
// workbooks). They are generated from survey/internal/formgen; rebuild them
// with `go test ./survey/internal/formgen -run TestTemplates -update`.
package forms

import "embed"

// FS holds the *.xlsx templates at its root.
//
//go:embed *.xlsx
var FS embed.FS
