package survey

import (
	"archive/zip"
	"bufio"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/flate"
	"github.com/xuri/excelize/v2"
)

// rawSheet writes the XML of one big worksheet (Data, Data_Labels) itself,
// deflated as it goes into a temporary file, and the workbook's zip takes
// it as it is (zipSwap). excelize's StreamWriter spent most of a large
// export on per-cell work (cell names, value conversion, string checks) and
// keeps up to 16 MiB per sheet in memory; here a row is appended to one
// reused buffer from precomputed column names, and the compression runs in
// the goroutine that writes the sheet, so Data and Data_Labels are
// compressed in parallel. The deflate is klauspost/compress's, which at
// BestSpeed takes about a quarter less CPU than compress/flate on this XML
// (0.3–0.7 s of a 100,000-response export) for the same format.
type rawSheet struct {
	path string
	tmp  *os.File
	fw   *flate.Writer
	zbuf *bufio.Writer
	crc  hash.Hash32
	size uint64
	buf  []byte
	cols []string
	row  int
	err  error
	// Full buffers go to the sheet's compressor goroutine (deflate is
	// the largest single cost of a big export) and come back on free.
	full, free chan []byte
	done       chan struct{}
	zerr       error // the compressor's, read after done
}

const rawFlushAt = 64 << 10

// newRawSheet starts the sheet at path with ncols columns, the first row
// frozen; widths are the column widths, the last one for the rest.
func newRawSheet(path string, ncols int, widths ...float64) (*rawSheet, error) {
	tmp, err := os.CreateTemp("", "jpkipilot-sheet-*.xml.deflate")
	if err != nil {
		return nil, err
	}
	rs := &rawSheet{path: path, tmp: tmp, crc: crc32.NewIEEE(), buf: make([]byte, 0, 2*rawFlushAt)}
	rs.zbuf = bufio.NewWriterSize(tmp, 256<<10)
	rs.fw, _ = flate.NewWriter(rs.zbuf, flate.BestSpeed)
	rs.full, rs.free, rs.done = make(chan []byte, 2), make(chan []byte, 3), make(chan struct{})
	for range 2 {
		rs.free <- make([]byte, 0, 2*rawFlushAt)
	}
	go rs.compress(rs.full)
	for i := 1; i <= ncols; i++ {
		c, _ := excelize.ColumnNumberToName(i)
		rs.cols = append(rs.cols, c)
	}
	rs.buf = append(rs.buf, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"+
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">`+
		`<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>`+
		`<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>`+
		`<sheetFormatPr defaultRowHeight="15"/><cols>`...)
	for i, w := range widths {
		last := i + 1
		if i == len(widths)-1 {
			last = max(ncols, last)
		}
		rs.buf = append(rs.buf, `<col min="`...)
		rs.buf = strconv.AppendInt(rs.buf, int64(i+1), 10)
		rs.buf = append(rs.buf, `" max="`...)
		rs.buf = strconv.AppendInt(rs.buf, int64(last), 10)
		rs.buf = append(rs.buf, `" width="`...)
		rs.buf = strconv.AppendFloat(rs.buf, w, 'f', -1, 64)
		rs.buf = append(rs.buf, `" customWidth="1"/>`...)
	}
	rs.buf = append(rs.buf, `</cols><sheetData>`...)
	return rs, nil
}

// excelEpoch is day 0 of Excel's 1900 date system (for dates after
// 1900-03-01, where its leap-year bug no longer matters).
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// setRow appends the next row; values are nil, string, int, int64, float64
// or excelize.Cell holding a string or a time.Time (a wall time in UTC).
func (rs *rawSheet) setRow(vals []any) error {
	if rs.err != nil {
		return rs.err
	}
	rs.row++
	b := append(rs.buf, `<row r="`...)
	b = strconv.AppendInt(b, int64(rs.row), 10)
	b = append(b, `">`...)
	for i, v := range vals {
		if v == nil {
			continue
		}
		style := 0
		if c, ok := v.(excelize.Cell); ok {
			v, style = c.Value, c.StyleID
		}
		b = append(b, `<c r="`...)
		b = append(b, rs.cols[i]...)
		b = strconv.AppendInt(b, int64(rs.row), 10)
		b = append(b, '"')
		if style != 0 {
			b = append(b, ` s="`...)
			b = strconv.AppendInt(b, int64(style), 10)
			b = append(b, '"')
		}
		switch x := v.(type) {
		case string:
			b = appendInlineStr(b, x)
			continue
		case int:
			b = append(b, `><v>`...)
			b = strconv.AppendInt(b, int64(x), 10)
		case int64:
			b = append(b, `><v>`...)
			b = strconv.AppendInt(b, x, 10)
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				b = appendInlineStr(b, strconv.FormatFloat(x, 'f', -1, 64))
				continue
			}
			b = append(b, `><v>`...)
			b = strconv.AppendFloat(b, x, 'f', -1, 64)
		case time.Time:
			b = append(b, `><v>`...)
			secs := x.Unix() - excelEpoch.Unix()
			if secs%86400 == 0 {
				b = strconv.AppendInt(b, secs/86400, 10)
			} else {
				b = strconv.AppendFloat(b, float64(secs)/86400, 'f', -1, 64)
			}
		default:
			b = appendInlineStr(b, fmt.Sprint(v))
			continue
		}
		b = append(b, `</v></c>`...)
	}
	rs.buf = append(b, `</row>`...)
	if len(rs.buf) >= rawFlushAt {
		rs.flush()
	}
	return rs.err
}

// appendInlineStr finishes a cell holding s as an inline string: XML
// escaped, characters XML cannot hold dropped, cut at Excel's 32,767.
func appendInlineStr(b []byte, s string) []byte {
	b = append(b, ` t="inlineStr"><is><t`...)
	if s != "" && (isSpace(s[0]) || isSpace(s[len(s)-1])) {
		b = append(b, ` xml:space="preserve"`...)
	}
	b = append(b, '>')
	if plainXMLText(s) {
		b = append(b, s...)
		return append(b, `</t></is></c>`...)
	}
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			n++
			switch {
			case c == '&':
				b = append(b, "&amp;"...)
			case c == '<':
				b = append(b, "&lt;"...)
			case c == '>':
				b = append(b, "&gt;"...)
			case c == '\r':
				b = append(b, "&#xD;"...)
			case c < 0x20 && c != '\t' && c != '\n':
				n-- // not allowed in XML
			default:
				b = append(b, c)
			}
		} else {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 || r == 0xFFFE || r == 0xFFFF {
				r = utf8.RuneError
			}
			b = utf8.AppendRune(b, r)
			i += size
			n++
			if r > 0xFFFF {
				n++ // Excel counts UTF-16 units
			}
		}
		if n >= 32767 {
			break
		}
	}
	return append(b, `</t></is></c>`...)
}

// xmlSpecial marks the bytes a text needs escaping or dropping for: the
// markup characters, CR, control characters, and 0xEF (which starts
// U+FFFE and U+FFFF, not allowed in XML).
var xmlSpecial = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = c != '\t' && c != '\n'
	}
	t['&'], t['<'], t['>'], t[0xEF] = true, true, true, true
	return t
}()

// plainXMLText reports whether s goes into an inline string as it is:
// valid UTF-8, nothing to escape or drop, and short enough that Excel's
// 32,767-character limit cannot cut it.
func plainXMLText(s string) bool {
	if len(s) > 32767 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !xmlSpecial[s[i]] {
			continue
		}
		// 0xEF also starts the full-width forms Japanese text is full of.
		if s[i] != 0xEF || i+2 < len(s) && s[i+1] == 0xBF && (s[i+2] == 0xBE || s[i+2] == 0xBF) {
			return false
		}
	}
	return utf8.ValidString(s)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (rs *rawSheet) flush() {
	if rs.err != nil || len(rs.buf) == 0 {
		return
	}
	rs.size += uint64(len(rs.buf))
	rs.full <- rs.buf
	rs.buf = (<-rs.free)[:0]
}

// compress deflates the full buffers into the temporary file.
func (rs *rawSheet) compress(full <-chan []byte) {
	defer close(rs.done)
	for b := range full {
		if rs.zerr == nil {
			rs.crc.Write(b)
			_, rs.zerr = rs.fw.Write(b)
		}
		rs.free <- b
	}
	if rs.zerr == nil {
		rs.zerr = rs.fw.Close()
	}
	if rs.zerr == nil {
		rs.zerr = rs.zbuf.Flush()
	}
}

// stop ends the compressor and returns its error; it may be called again.
func (rs *rawSheet) stop() error {
	if rs.full != nil {
		close(rs.full)
		rs.full = nil
		<-rs.done
	}
	return rs.zerr
}

// finish ends the sheet's XML and its deflate stream.
func (rs *rawSheet) finish() error {
	rs.buf = append(rs.buf, `</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>`...)
	rs.flush()
	if err := rs.stop(); rs.err == nil {
		rs.err = err
	}
	return rs.err
}

// copyTo puts the finished, compressed sheet into zw.
func (rs *rawSheet) copyTo(zw *zip.Writer) error {
	if rs.err != nil {
		return rs.err
	}
	n, err := rs.tmp.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if _, err := rs.tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: rs.path, Method: zip.Deflate, CRC32: rs.crc.Sum32(),
		CompressedSize64: uint64(n), UncompressedSize64: rs.size})
	if err != nil {
		return err
	}
	_, err = io.Copy(w, bufio.NewReaderSize(rs.tmp, 256<<10))
	return err
}

// close removes the temporary file.
func (rs *rawSheet) close() {
	if rs != nil {
		rs.stop()
	}
	if rs != nil && rs.tmp != nil {
		rs.tmp.Close()
		os.Remove(rs.tmp.Name())
		rs.tmp = nil
	}
}

// sheetPath is where excelize keeps a sheet of a workbook it created: a
// sheet added by NewSheet is xl/worksheets/sheet<id>.xml.
func sheetPath(x *excelize.File, name string) (string, error) {
	for id, n := range x.GetSheetMap() {
		if n == name {
			return "xl/worksheets/sheet" + strconv.Itoa(id) + ".xml", nil
		}
	}
	return "", fmt.Errorf("no sheet %s", name)
}

// zipSwap is the workbook's zip writer: parts excelize writes go through a
// zip.Writer compressing at BestSpeed, except the raw sheets, whose
// compressed XML replaces excelize's placeholder.
type zipSwap struct {
	zw  *zip.Writer
	raw map[string]*rawSheet
}

func (z *zipSwap) Create(name string) (io.Writer, error) {
	if rs, ok := z.raw[name]; ok {
		delete(z.raw, name)
		if err := rs.copyTo(z.zw); err != nil {
			return nil, err
		}
		return io.Discard, nil
	}
	return z.zw.Create(name)
}

func (z *zipSwap) AddFS(fsys fs.FS) error { return z.zw.AddFS(fsys) }

func (z *zipSwap) Close() error {
	for name := range z.raw {
		z.zw.Close()
		return fmt.Errorf("sheet part %s was not written", name)
	}
	return z.zw.Close()
}
