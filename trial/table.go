package trial

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/japanese"
)

// Table is a spreadsheet read from a CSV or XLSX file: a header row and the
// rows under it, numbered as Excel shows them (the header is row 1).
type Table struct {
	Header []string
	Rows   []TableRow
	// Encoding is how the file was decoded: "UTF-8", "UTF-8 (BOM)",
	// "Shift_JIS" or "XLSX".
	Encoding string
	// serialDates: numeric cells in date columns are Excel date serials
	// (an XLSX read with raw cell values).
	serialDates bool
}

// TableRow is one data row.
type TableRow struct {
	Row   int // Excel row number: the header is 1, the first data row 2
	Cells []string
}

// MaxImportBytes bounds the size of an import file.
const MaxImportBytes = 64 << 20

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// DecodeText turns the bytes of a text file into a string. Valid UTF-8 (with
// or without a byte-order mark) is taken as UTF-8; anything else is decoded
// as Shift_JIS (CP932, what Japanese Excel writes for "CSV (コンマ区切り)").
// Bytes that are neither fail with an error naming the offset of the first
// byte UTF-8 could not read. UTF-16 (Excel's "Unicode テキスト") is refused
// with advice.
func DecodeText(b []byte) (text, encoding string, err error) {
	if rest, ok := bytes.CutPrefix(b, utf8BOM); ok {
		if !utf8.Valid(rest) {
			return "", "", fmt.Errorf("the file starts with a UTF-8 byte-order mark but is not UTF-8 (byte %d)", invalidUTF8At(rest)+3)
		}
		return string(rest), "UTF-8 (BOM)", nil
	}
	if bytes.HasPrefix(b, []byte{0xFF, 0xFE}) || bytes.HasPrefix(b, []byte{0xFE, 0xFF}) {
		return "", "", errors.New("the file is UTF-16 (Excel \"Unicode text\"); save it as \"CSV UTF-8\" or \"CSV\" instead")
	}
	if utf8.Valid(b) {
		return string(b), "UTF-8", nil
	}
	out, err := japanese.ShiftJIS.NewDecoder().Bytes(b)
	if err != nil || bytes.ContainsRune(out, utf8.RuneError) || bytes.IndexByte(out, 0) >= 0 {
		return "", "", fmt.Errorf("the file is neither UTF-8 nor Shift_JIS (CP932): unreadable bytes near byte %d; save it from Excel as \"CSV UTF-8\"", invalidUTF8At(b))
	}
	return string(out), "Shift_JIS", nil
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// ReadCSV reads a CSV file in UTF-8 or Shift_JIS (see DecodeText). A header
// line with tabs and no commas is read as tab-separated. Rows whose cells
// are all empty (Excel leaves them at the end) are skipped.
func ReadCSV(r io.Reader) (*Table, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxImportBytes {
		return nil, fmt.Errorf("the file is larger than %d MB", MaxImportBytes>>20)
	}
	text, enc, err := DecodeText(b)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	first, _, _ := strings.Cut(text, "\n")
	if strings.Contains(first, "\t") && !strings.Contains(first, ",") {
		cr.Comma = '\t'
	}
	t := &Table{Encoding: enc}
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", row, err)
		}
		if row == 1 {
			t.Header = rec
			continue
		}
		t.add(row, rec)
	}
	if t.Header == nil {
		return nil, errors.New("the file is empty: no header row")
	}
	return t, nil
}

func (t *Table) add(row int, cells []string) {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			t.Rows = append(t.Rows, TableRow{Row: row, Cells: cells})
			return
		}
	}
}

// ReadXLSX reads the sheet named "monitors" (or "モニター"), else the first
// sheet, of an XLSX workbook. Dates typed as Excel dates are understood.
func ReadXLSX(r io.Reader) (t *Table, err error) {
	// A malformed workbook must not take the application down with it.
	defer func() {
		if p := recover(); p != nil {
			t, err = nil, fmt.Errorf("not a readable XLSX workbook (%v)", p)
		}
	}()
	f, err := excelize.OpenReader(io.LimitReader(r, MaxImportBytes), excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, fmt.Errorf("not a readable XLSX workbook: %w", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, errors.New("the workbook has no sheets")
	}
	sheet := sheets[0]
	for _, s := range sheets {
		if n := strings.ToLower(strings.TrimSpace(s)); n == "monitors" || n == "モニター" {
			sheet = s
			break
		}
	}
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, fmt.Errorf("sheet %q: %w", sheet, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("sheet %q is empty: no header row", sheet)
	}
	t = &Table{Header: rows[0], Encoding: "XLSX", serialDates: true}
	for i, cells := range rows[1:] {
		t.add(i+2, cells)
	}
	return t, nil
}
