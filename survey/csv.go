package survey

import (
	"jpkipilot/trial/csvcell"

	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/japanese"
)

// CSV encodings for ExportCSV.
const (
	EncodingUTF8     = "utf-8" // with a byte-order mark, so that Excel reads it as UTF-8
	EncodingShiftJIS = "sjis"  // Shift_JIS, for older Japanese tools
)

// CSVEncoding reads an --encoding value: "utf-8", "utf8", "sjis",
// "shift_jis" or "cp932" (any case).
func CSVEncoding(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "utf-8", "utf8":
		return EncodingUTF8, nil
	case "sjis", "shift_jis", "shift-jis", "cp932":
		return EncodingShiftJIS, nil
	}
	return "", fmt.Errorf("unknown CSV encoding %q (want utf-8 or sjis)", s)
}

// ExportCSV writes the Data sheet of the export (one row per response,
// variable names as headers, codes, select_multiple as the codes plus one
// 0/1 column per choice) as CSV to w, in opt.Encoding (EncodingUTF8 with a
// BOM when empty, or EncodingShiftJIS). Dates are written YYYY-MM-DD, times
// YYYY-MM-DD hh:mm:ss in opt.Location. A character that Shift_JIS cannot
// hold stops the export with an error naming the response and variable.
// The CSV is streamed: on an error w holds part of it, so write to a
// temporary file and rename it on success.
func (s *Service) ExportCSV(ctx context.Context, w io.Writer, opt ExportOptions, progress func(done, total int)) error {
	enc, err := CSVEncoding(opt.Encoding)
	if err != nil {
		return fmt.Errorf("survey: %w", err)
	}
	if opt.Location == nil {
		opt.Location = time.Local
	}
	return s.snapshot(ctx, func(rd reader) error {
		l, total, err := s.prepare(ctx, rd, opt.Filter)
		if err != nil {
			return err
		}
		// The styles only tell dates from times here.
		e := &exporter{opt: opt, lang: "ja", l: l, styleDate: 1, styleTime: 2}
		var header []string
		for _, c := range metaColumns {
			header = append(header, c.name)
		}
		if opt.Identified {
			for _, c := range identifiedColumns {
				header = append(header, c.name)
			}
		}
		e.offset = map[*Variable]int{}
		names := make([]string, 0, len(l.vars))
		for _, v := range l.vars {
			e.offset[v] = len(header)
			header = append(header, v.Name)
			names = append(names, v.Name)
			if v.Question.Type == TypeSelectMultiple {
				for _, c := range v.Question.List.Choices {
					header = append(header, v.Name+"/"+c.Name)
					names = append(names, v.Name)
				}
			}
		}
		e.ncols = len(header)
		e.plans = map[*formRef][]colPlan{}
		colName := func(i int) string { // the variable a column belongs to
			if i < len(header)-len(names) {
				return header[i]
			}
			return names[i-(len(header)-len(names))]
		}

		bw := bufio.NewWriterSize(w, 64<<10)
		cw := csvWriter{w: bw, sjis: enc == EncodingShiftJIS}
		if !cw.sjis {
			bw.WriteString("\uFEFF")
		}
		if col, err := cw.write(header); err != nil {
			return fmt.Errorf("survey: CSV header, column %s: %w", header[col], err)
		}
		codes, texts := make([]any, e.ncols), make([]any, e.ncols)
		fields := make([]string, e.ncols)
		done := 0
		if progress != nil {
			progress(0, total)
		}
		err = s.scan(ctx, rd, opt.Filter, l, opt.Identified, opt.PII, nil, func(r *scanRow) error {
			clear(codes)
			if err := e.fill(r, codes, texts, nil); err != nil {
				return err
			}
			for i, v := range codes {
				fields[i] = e.csvField(v)
			}
			if col, err := cw.write(fields); err != nil {
				return fmt.Errorf("survey: CSV response %d, variable %s: %w", r.ID, colName(col), err)
			}
			done++
			if progress != nil && (done%500 == 0 || done == total) {
				progress(done, total)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("survey: CSV: %w", err)
		}
		return nil
	})
}

// csvField writes one Data value as CSV text.
func (e *exporter) csvField(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string: // ids, codes and typed text; numbers are never strings here
		return csvcell.Safe(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case excelize.Cell:
		if t, ok := x.Value.(time.Time); ok {
			if x.StyleID == e.styleDate {
				return t.Format("2006-01-02")
			}
			return t.Format("2006-01-02 15:04:05")
		}
		return e.csvField(x.Value)
	}
	return fmt.Sprint(v)
}

// csvWriter writes CSV records (RFC 4180, CRLF line ends as Excel writes
// them), optionally in Shift_JIS.
type csvWriter struct {
	w    *bufio.Writer
	sjis bool
	line strings.Builder
	csv  *csv.Writer
}

// write writes one record; on an error it returns the column at fault.
func (c *csvWriter) write(fields []string) (int, error) {
	if !c.sjis {
		if c.csv == nil {
			c.csv = csv.NewWriter(c.w)
			c.csv.UseCRLF = true
		}
		if err := c.csv.Write(fields); err != nil {
			return 0, err
		}
		c.csv.Flush()
		return 0, c.csv.Error()
	}
	// Shift_JIS: encode field by field, so that an error names its column.
	c.line.Reset()
	lw := csv.NewWriter(&c.line)
	lw.UseCRLF = true
	for i, f := range fields {
		if !isASCII(f) {
			if _, err := japanese.ShiftJIS.NewEncoder().String(f); err != nil {
				return i, noShiftJIS(f)
			}
		}
	}
	if err := lw.Write(fields); err != nil {
		return 0, err
	}
	lw.Flush()
	b, err := japanese.ShiftJIS.NewEncoder().String(c.line.String())
	if err != nil {
		return 0, err
	}
	_, err = c.w.WriteString(b)
	return 0, err
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// ErrNoShiftJIS is wrapped by the error of a character Shift_JIS lacks.
var ErrNoShiftJIS = errors.New("has no Shift_JIS form (export as UTF-8 instead)")

func noShiftJIS(s string) error {
	for _, r := range s {
		if _, err := japanese.ShiftJIS.NewEncoder().String(string(r)); err != nil {
			return fmt.Errorf("character %q (U+%04X) %w", r, r, ErrNoShiftJIS)
		}
	}
	return ErrNoShiftJIS
}
