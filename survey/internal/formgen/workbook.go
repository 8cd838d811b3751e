// Package formgen writes XLSForm workbooks from Go values: the bundled
// questionnaire templates in assets/forms (rebuilt by
// `go test ./survey/internal/formgen -run TestTemplates -update`) and the
// good and bad forms that tests generate.
package formgen

import (
	"bytes"
	"fmt"

	"github.com/xuri/excelize/v2"
)

// Sheet is one worksheet: rows of cells, the first row the headers.
type Sheet struct {
	Name string
	Rows [][]string
}

// Workbook writes the sheets, in order, as an .xlsx file. Empty cells are
// left out so that blank rows stay blank.
func Workbook(sheets ...Sheet) ([]byte, error) {
	x := excelize.NewFile()
	defer x.Close()
	for i, s := range sheets {
		if i == 0 {
			if err := x.SetSheetName("Sheet1", s.Name); err != nil {
				return nil, err
			}
		} else if _, err := x.NewSheet(s.Name); err != nil {
			return nil, err
		}
		for r, row := range s.Rows {
			for c, v := range row {
				if v == "" {
					continue
				}
				cell, err := excelize.CoordinatesToCellName(c+1, r+1)
				if err != nil {
					return nil, err
				}
				if err := x.SetCellStr(s.Name, cell, v); err != nil {
					return nil, fmt.Errorf("sheet %s %s: %w", s.Name, cell, err)
				}
			}
		}
		if len(s.Rows) > 0 {
			last, _ := excelize.ColumnNumberToName(max(len(s.Rows[0]), 1))
			_ = x.SetColWidth(s.Name, "A", last, 24)
		}
	}
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
