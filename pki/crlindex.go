package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"os"
	"sort"
	"sync"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CRLIndex is a parsed, indexed CRL. It keeps the CRL's DER bytes and, per
// revoked certificate, the offset of its entry and a 64-bit key made of the
// serial's length and first bytes, both sorted by serial number: no
// per-entry heap objects. Lookups decode the entries they touch in place. A
// CRL of a million entries costs its file size plus 12 MB.
//
// Why not x509.ParseRevocationList: it builds a big.Int, a time.Time and an
// extension slice for every entry — about 500 MB and 4 s for a million.
type CRLIndex struct {
	der  []byte
	tbs  []byte // the raw TBSCertList, what the signature covers
	sig  []byte
	alg  sigAlg
	offs []uint32 // entry offsets into der, sorted by normalised serial
	// keys[i] is serialKey64 of entry i: the binary search runs over this
	// dense array (8 MB for 1M entries) and touches der only to confirm.
	// tops samples every topStride-th key; it stays in the L2 cache, so a
	// lookup costs a handful of cache misses instead of forty.
	keys []uint64
	tops []uint64

	RawIssuer      []byte // DER Name
	ThisUpdate     time.Time
	NextUpdate     time.Time // zero when the CRL has none
	Number         *big.Int  // CRL number extension, nil when absent
	AuthorityKeyID []byte

	mu         sync.Mutex
	verifiedBy []byte // RawSubjectPublicKeyInfo whose signature check passed
}

// CRLError is a malformed CRL, with the byte offset where parsing stopped.
type CRLError struct {
	Offset int
	Msg    string
}

func (e *CRLError) Error() string { return fmt.Sprintf("CRL: byte %d: %s", e.Offset, e.Msg) }

// Entry is one revoked certificate.
type Entry struct {
	RevokedAt time.Time
	Reason    RevocationReason // Unspecified when the entry carries no reason code
}

// LoadCRL reads a DER (or PEM "X509 CRL") file, indexes it and, when issuer
// is not nil, verifies its signature.
func LoadCRL(path string, issuer *x509.Certificate) (*CRLIndex, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if der, ok := pemBlock(b, "X509 CRL"); ok {
		b = der
	}
	idx, err := ParseCRL(b, issuer)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return idx, nil
}

var (
	oidCRLNumber         = []byte{0x55, 0x1d, 0x14}
	oidAuthorityKeyID    = []byte{0x55, 0x1d, 0x23}
	oidIssuingDistPoint  = []byte{0x55, 0x1d, 0x1c}
	oidDeltaCRLIndicator = []byte{0x55, 0x1d, 0x1b}
	oidReasonCode        = []byte{0x55, 0x1d, 0x15}
	oidInvalidityDate    = []byte{0x55, 0x1d, 0x18}
	oidCertificateIssuer = []byte{0x55, 0x1d, 0x1d}
)

// ParseCRL indexes a DER CRL. The slice is kept by the index and must not be
// modified. When issuer is not nil the signature is checked (the digest of
// the TBS is computed on a second goroutine while the entries are scanned)
// and a bad signature is an error.
func ParseCRL(der []byte, issuer *x509.Certificate) (*CRLIndex, error) {
	if uint64(len(der)) >= 1<<32 {
		return nil, &CRLError{0, "larger than 4 GiB"}
	}
	der = der[:len(der):len(der)]
	p := crlParser{base: cap(der)}
	c := &CRLIndex{der: der}
	in := cryptobyte.String(der)
	var list, tbs cryptobyte.String
	if !in.ReadASN1(&list, cbasn1.SEQUENCE) {
		return nil, p.errf(in, "%s", outerProblem(der))
	}
	if !in.Empty() {
		return nil, p.errf(in, "%d bytes of trailing data after the CertificateList", len(in))
	}
	var tbsRaw cryptobyte.String
	if !list.ReadASN1Element(&tbsRaw, cbasn1.SEQUENCE) {
		return nil, p.errf(list, "bad TBSCertList")
	}
	c.tbs = tbsRaw
	var outerAlg cryptobyte.String
	if !list.ReadASN1Element(&outerAlg, cbasn1.SEQUENCE) {
		return nil, p.errf(list, "bad signatureAlgorithm")
	}
	var bits asn1.BitString
	if !list.ReadASN1BitString(&bits) || bits.BitLength%8 != 0 {
		return nil, p.errf(list, "bad signatureValue BIT STRING")
	}
	c.sig = bits.Bytes
	if !list.Empty() {
		return nil, p.errf(list, "trailing data in CertificateList")
	}
	alg, err := parseSigAlg(outerAlg)
	if err != nil {
		return nil, p.errf(outerAlg, "%v", err)
	}
	c.alg = alg

	if !tbsRaw.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, p.errf(tbsRaw, "bad TBSCertList")
	}
	if tbs.PeekASN1Tag(cbasn1.INTEGER) {
		var v int
		if !tbs.ReadASN1Integer(&v) || v != 1 {
			return nil, p.errf(tbs, "version must be v2 (1)")
		}
	}
	var innerAlg cryptobyte.String
	if !tbs.ReadASN1Element(&innerAlg, cbasn1.SEQUENCE) {
		return nil, p.errf(tbs, "bad TBSCertList signature AlgorithmIdentifier")
	}
	if !bytes.Equal(innerAlg, outerAlg) {
		return nil, p.errf(innerAlg, "TBSCertList signature algorithm differs from the outer one")
	}
	var issuerName cryptobyte.String
	if !tbs.ReadASN1Element(&issuerName, cbasn1.SEQUENCE) {
		return nil, p.errf(tbs, "bad issuer Name")
	}
	c.RawIssuer = issuerName
	// Hash the TBS alongside the entry scan: two cores, one pass each.
	var digest chan []byte
	if issuer != nil {
		if err := c.checkIssuer(issuer); err != nil {
			return nil, err
		}
		digest = make(chan []byte, 1)
		go func() {
			h := c.alg.hash.New()
			h.Write(c.tbs)
			digest <- h.Sum(nil)
		}()
	}

	at := tbs
	t, ok := readTime(&tbs)
	if !ok {
		return nil, p.errf(at, "bad thisUpdate")
	}
	c.ThisUpdate = time.Unix(t, 0).UTC()
	if tbs.PeekASN1Tag(cbasn1.UTCTime) || tbs.PeekASN1Tag(cbasn1.GeneralizedTime) {
		at = tbs
		t, ok := readTime(&tbs)
		if !ok {
			return nil, p.errf(at, "bad nextUpdate")
		}
		c.NextUpdate = time.Unix(t, 0).UTC()
	}
	if tbs.PeekASN1Tag(cbasn1.SEQUENCE) {
		var revoked cryptobyte.String
		tbs.ReadASN1(&revoked, cbasn1.SEQUENCE)
		if err := c.scanEntries(&p, revoked); err != nil {
			return nil, err
		}
	}
	if tbs.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		var wrap, exts cryptobyte.String
		tbs.ReadASN1(&wrap, cbasn1.Tag(0).Constructed().ContextSpecific())
		if !wrap.ReadASN1(&exts, cbasn1.SEQUENCE) || !wrap.Empty() {
			return nil, p.errf(wrap, "bad crlExtensions")
		}
		if err := c.parseExtensions(&p, exts); err != nil {
			return nil, err
		}
	}
	if !tbs.Empty() {
		return nil, p.errf(tbs, "unexpected data in TBSCertList")
	}
	if digest != nil {
		if err := c.verifyDigest(issuer, <-digest); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// outerProblem explains why the outer SEQUENCE did not read: most often a
// truncated download.
func outerProblem(der []byte) string {
	s := cryptobyte.String(der)
	var tag cbasn1.Tag
	var elem cryptobyte.String
	if len(der) < 2 || der[0] != 0x30 {
		return "not a DER CRL (no SEQUENCE at the start; PEM needs a -----BEGIN X509 CRL----- block)"
	}
	if !s.ReadAnyASN1Element(&elem, &tag) && der[1]&0x80 != 0 && int(der[1]&0x7f) <= 4 && len(der) >= 2+int(der[1]&0x7f) {
		n := 0
		for _, b := range der[2 : 2+int(der[1]&0x7f)] {
			n = n<<8 | int(b)
		}
		if want := 2 + int(der[1]&0x7f) + n; want > len(der) {
			return fmt.Sprintf("truncated: the CRL declares %d bytes, the input has %d", want, len(der))
		}
	}
	return "bad DER length of the CertificateList SEQUENCE"
}

type crlParser struct{ base int }

// off is the offset of s in the CRL: every cryptobyte.String read from the
// CRL shares its backing array and keeps its capacity to the end.
func (p *crlParser) off(s cryptobyte.String) int { return p.base - cap(s) }

func (p *crlParser) errf(at cryptobyte.String, format string, a ...any) error {
	return &CRLError{Offset: p.off(at), Msg: fmt.Sprintf(format, a...)}
}

// scanEntries walks revokedCertificates once: it validates every entry and
// records its offset. CAs (OpenSSL among them) usually emit entries sorted
// by serial; only an unsorted CRL pays for a sort.
func (c *CRLIndex) scanEntries(p *crlParser, revoked cryptobyte.String) error {
	// Estimate the count from the first entry's length to allocate once.
	est := 16
	if len(revoked) > 2 && revoked[1] < 0x80 {
		est = len(revoked)/(int(revoked[1])+2) + 16
	}
	offs := make([]uint32, 0, est)
	keys := make([]uint64, 0, est)
	var prev []byte
	sorted := true
	for !revoked.Empty() {
		start := revoked
		var entry cryptobyte.String
		if !revoked.ReadASN1(&entry, cbasn1.SEQUENCE) {
			return p.errf(start, "entry %d: not a SEQUENCE", len(offs))
		}
		serial, ok := readSerial(&entry)
		if !ok {
			return p.errf(start, "entry %d: bad userCertificate serial", len(offs))
		}
		at := entry
		if _, ok := readTime(&entry); !ok {
			return p.errf(at, "entry %d: bad revocationDate", len(offs))
		}
		if !entry.Empty() {
			if _, err := entryExtensions(p, entry, len(offs)); err != nil {
				return err
			}
		}
		if sorted && prev != nil && compareSerial(prev, serial) > 0 {
			sorted = false
		}
		prev = serial
		offs = append(offs, uint32(p.off(start)))
		keys = append(keys, serialKey64(serial))
	}
	c.offs, c.keys = offs, keys
	if !sorted {
		sort.Sort(byKey{c})
	}
	c.tops = make([]uint64, 0, len(keys)/topStride+1)
	for i := 0; i < len(keys); i += topStride {
		c.tops = append(c.tops, keys[i])
	}
	return nil
}

const topStride = 64

// serialKey64 packs a normalised serial's length (top byte) and its first
// seven bytes: ordering keys orders serials as compareSerial does, up to
// ties between serials that share length and first seven bytes.
func serialKey64(b []byte) uint64 {
	k := uint64(len(b)) << 56
	for i := 0; i < 7 && i < len(b); i++ {
		k |= uint64(b[i]) << (48 - 8*i)
	}
	return k
}

type byKey struct{ c *CRLIndex }

func (s byKey) Len() int { return len(s.c.offs) }
func (s byKey) Less(i, j int) bool {
	if ki, kj := s.c.keys[i], s.c.keys[j]; ki != kj {
		return ki < kj
	}
	return compareSerial(s.c.serialAt(s.c.offs[i]), s.c.serialAt(s.c.offs[j])) < 0
}
func (s byKey) Swap(i, j int) {
	s.c.offs[i], s.c.offs[j] = s.c.offs[j], s.c.offs[i]
	s.c.keys[i], s.c.keys[j] = s.c.keys[j], s.c.keys[i]
}

// readSerial reads an INTEGER and returns its content normalised to minimal
// two's complement (some CAs pad serials with a redundant zero byte).
func readSerial(s *cryptobyte.String) ([]byte, bool) {
	var b cryptobyte.String
	if !s.ReadASN1(&b, cbasn1.INTEGER) || len(b) == 0 || len(b) > 127 {
		return nil, false
	}
	return normSerial(b), true
}

func normSerial(b []byte) []byte {
	for len(b) > 1 && (b[0] == 0 && b[1]&0x80 == 0 || b[0] == 0xff && b[1]&0x80 != 0) {
		b = b[1:]
	}
	return b
}

// compareSerial orders normalised serials by length, then bytes: numeric
// order for positive serials, and a total order for all.
func compareSerial(a, b []byte) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return bytes.Compare(a, b)
}

// serialAt decodes the serial of the entry at off (already validated).
func (c *CRLIndex) serialAt(off uint32) []byte {
	s := cryptobyte.String(c.der[off:])
	var entry cryptobyte.String
	s.ReadASN1(&entry, cbasn1.SEQUENCE)
	b, _ := readSerial(&entry)
	return b
}

// entryExtensions returns the reason code; unknown critical extensions and
// indirect-CRL entries are errors (RFC 5280 §5.3).
func entryExtensions(p *crlParser, s cryptobyte.String, n int) (RevocationReason, error) {
	var exts cryptobyte.String
	if !s.ReadASN1(&exts, cbasn1.SEQUENCE) || !s.Empty() {
		return 0, p.errf(s, "entry %d: bad crlEntryExtensions", n)
	}
	reason := Unspecified
	for !exts.Empty() {
		at := exts
		oid, critical, val, ok := readExtension(&exts)
		if !ok {
			return 0, p.errf(at, "entry %d: bad extension", n)
		}
		switch {
		case bytes.Equal(oid, oidReasonCode):
			var e cryptobyte.String
			if !val.ReadASN1(&e, cbasn1.ENUM) || !val.Empty() || len(e) != 1 || e[0] > 10 || e[0] == 7 {
				return 0, p.errf(at, "entry %d: bad reasonCode", n)
			}
			reason = RevocationReason(e[0])
		case bytes.Equal(oid, oidInvalidityDate):
		case bytes.Equal(oid, oidCertificateIssuer):
			return 0, p.errf(at, "entry %d: indirect CRLs (certificateIssuer) are not supported", n)
		case critical:
			return 0, p.errf(at, "entry %d: unknown critical extension %s", n, oidString(oid))
		}
	}
	return reason, nil
}

func (c *CRLIndex) parseExtensions(p *crlParser, exts cryptobyte.String) error {
	for !exts.Empty() {
		at := exts
		oid, critical, val, ok := readExtension(&exts)
		if !ok {
			return p.errf(at, "bad CRL extension")
		}
		switch {
		case bytes.Equal(oid, oidCRLNumber):
			n := new(big.Int)
			if !val.ReadASN1Integer(n) || !val.Empty() || n.Sign() < 0 {
				return p.errf(at, "bad cRLNumber")
			}
			c.Number = n
		case bytes.Equal(oid, oidAuthorityKeyID):
			var aki, kid cryptobyte.String
			if !val.ReadASN1(&aki, cbasn1.SEQUENCE) {
				return p.errf(at, "bad authorityKeyIdentifier")
			}
			if aki.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()) {
				aki.ReadASN1(&kid, cbasn1.Tag(0).ContextSpecific())
				c.AuthorityKeyID = kid
			}
		case bytes.Equal(oid, oidDeltaCRLIndicator):
			return p.errf(at, "delta CRLs are not supported")
		case bytes.Equal(oid, oidIssuingDistPoint):
			// Scope of a partitioned CRL; the trial's CRLs are full CRLs
			// and JPKI's cover a whole CA, so it is accepted as is.
		case critical:
			return p.errf(at, "unknown critical CRL extension %s", oidString(oid))
		}
	}
	return nil
}

// readExtension reads Extension ::= SEQUENCE { extnID, critical BOOLEAN
// DEFAULT FALSE, extnValue OCTET STRING } and returns the OID content bytes.
func readExtension(s *cryptobyte.String) (oid []byte, critical bool, val cryptobyte.String, ok bool) {
	var ext, o cryptobyte.String
	if !s.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1(&o, cbasn1.OBJECT_IDENTIFIER) || len(o) == 0 {
		return nil, false, nil, false
	}
	if ext.PeekASN1Tag(cbasn1.BOOLEAN) {
		if !ext.ReadASN1Boolean(&critical) {
			return nil, false, nil, false
		}
	}
	if !ext.ReadASN1(&val, cbasn1.OCTET_STRING) || !ext.Empty() {
		return nil, false, nil, false
	}
	return o, critical, val, true
}

func oidString(b []byte) string {
	var oid asn1.ObjectIdentifier
	full := append([]byte{0x06, byte(len(b))}, b...)
	if len(b) < 128 {
		if _, err := asn1.Unmarshal(full, &oid); err == nil {
			return oid.String()
		}
	}
	return fmt.Sprintf("% x", b)
}

// readTime reads a UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime
// (YYYYMMDDHHMMSSZ) in their DER forms and returns Unix seconds. It is
// hand-written because time.Parse per entry costs more than the rest of the
// scan.
func readTime(s *cryptobyte.String) (int64, bool) {
	var b cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1(&b, &tag) {
		return 0, false
	}
	var year int
	switch {
	case tag == cbasn1.UTCTime && len(b) == 13:
		yy, ok := digits2(b[0], b[1])
		if !ok {
			return 0, false
		}
		year = 1900 + yy
		if yy < 50 {
			year = 2000 + yy
		}
		b = b[2:]
	case tag == cbasn1.GeneralizedTime && len(b) == 15:
		hi, ok1 := digits2(b[0], b[1])
		lo, ok2 := digits2(b[2], b[3])
		if !ok1 || !ok2 {
			return 0, false
		}
		year = hi*100 + lo
		b = b[4:]
	default:
		return 0, false
	}
	mon, ok1 := digits2(b[0], b[1])
	day, ok2 := digits2(b[2], b[3])
	hh, ok3 := digits2(b[4], b[5])
	mm, ok4 := digits2(b[6], b[7])
	ss, ok5 := digits2(b[8], b[9])
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || b[10] != 'Z' ||
		mon < 1 || mon > 12 || day < 1 || day > daysIn(year, mon) || hh > 23 || mm > 59 || ss > 59 {
		return 0, false
	}
	return daysFromCivil(year, mon, day)*86400 + int64(hh*3600+mm*60+ss), true
}

func digits2(a, b byte) (int, bool) {
	if a < '0' || a > '9' || b < '0' || b > '9' {
		return 0, false
	}
	return int(a-'0')*10 + int(b-'0'), true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is days since 1970-01-01 (H. Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// Len is the number of revoked certificates.
func (c *CRLIndex) Len() int { return len(c.offs) }

// Issuer decodes the issuer name.
func (c *CRLIndex) Issuer() pkix.Name {
	var rdn pkix.RDNSequence
	var n pkix.Name
	if _, err := asn1.Unmarshal(c.RawIssuer, &rdn); err == nil {
		n.FillFromRDNSequence(&rdn)
	}
	return n
}

// DER is the CRL as parsed.
func (c *CRLIndex) DER() []byte { return c.der }

// Lookup reports whether serial is on the CRL, by binary search over the
// sorted entry offsets.
func (c *CRLIndex) Lookup(serial *big.Int) (Entry, bool) {
	var buf [33]byte
	key, ok := serialKey(serial, buf[:])
	if !ok {
		return Entry{}, false
	}
	q := serialKey64(key)
	// The first sample >= q bounds the block holding the first key >= q.
	j := lowerBound(c.tops, q)
	lo, hi := 0, min(j*topStride, len(c.keys))
	if j > 0 {
		lo = (j - 1) * topStride
	}
	for i := lo + lowerBound(c.keys[lo:hi], q); i < len(c.keys) && c.keys[i] == q; i++ {
		switch compareSerial(c.serialAt(c.offs[i]), key) {
		case 0:
			return c.entryAt(c.offs[i]), true
		case 1:
			return Entry{}, false
		}
	}
	return Entry{}, false
}

// lowerBound is the index of the first element >= q.
func lowerBound(a []uint64, q uint64) int {
	lo, hi := 0, len(a)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if a[m] < q {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// serialKey encodes serial as normalised DER INTEGER content, in buf when it fits.
func serialKey(serial *big.Int, buf []byte) ([]byte, bool) {
	if serial == nil {
		return nil, false
	}
	if serial.Sign() < 0 {
		der, err := asn1.Marshal(serial)
		if err != nil {
			return nil, false
		}
		s := cryptobyte.String(der)
		b, ok := readSerial(&s)
		return b, ok
	}
	n := (serial.BitLen() + 8) / 8 // room for a leading zero byte
	if n > len(buf) {
		buf = make([]byte, n)
	}
	b := serial.FillBytes(buf[:n])
	return normSerial(b), true
}

func (c *CRLIndex) entryAt(off uint32) Entry {
	s := cryptobyte.String(c.der[off:])
	var entry cryptobyte.String
	s.ReadASN1(&entry, cbasn1.SEQUENCE)
	readSerial(&entry)
	t, _ := readTime(&entry)
	e := Entry{RevokedAt: time.Unix(t, 0).UTC()}
	if !entry.Empty() {
		e.Reason, _ = entryExtensions(&crlParser{base: cap(c.der)}, entry, 0)
	}
	return e
}

// Each calls fn for every entry in serial order until fn returns false.
func (c *CRLIndex) Each(fn func(serial []byte, e Entry) bool) {
	for _, off := range c.offs {
		if !fn(c.serialAt(off), c.entryAt(off)) {
			return
		}
	}
}

// CheckSignatureFrom verifies the CRL's signature with issuer's key (once
// per issuer key; the result is remembered).
func (c *CRLIndex) CheckSignatureFrom(issuer *x509.Certificate) error {
	c.mu.Lock()
	done := c.verifiedBy != nil && bytes.Equal(c.verifiedBy, issuer.RawSubjectPublicKeyInfo)
	c.mu.Unlock()
	if done {
		return nil
	}
	if err := c.checkIssuer(issuer); err != nil {
		return err
	}
	h := c.alg.hash.New()
	h.Write(c.tbs)
	return c.verifyDigest(issuer, h.Sum(nil))
}

// ErrCRLSignature is a CRL whose signature does not verify.
var ErrCRLSignature = errors.New("CRL signature does not verify with the issuer's key")

func (c *CRLIndex) checkIssuer(issuer *x509.Certificate) error {
	if !bytes.Equal(issuer.RawSubject, c.RawIssuer) {
		return fmt.Errorf("CRL issuer %q is not %q", c.Issuer().String(), issuer.Subject.String())
	}
	if issuer.KeyUsage != 0 && issuer.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return fmt.Errorf("CRL issuer %q may not sign CRLs (no cRLSign key usage)", issuer.Subject.String())
	}
	return nil
}

func (c *CRLIndex) verifyDigest(issuer *x509.Certificate, digest []byte) error {
	var ok bool
	switch pub := issuer.PublicKey.(type) {
	case *rsa.PublicKey:
		ok = c.alg.key == keyRSA && rsa.VerifyPKCS1v15(pub, c.alg.hash, digest, c.sig) == nil
	case *ecdsa.PublicKey:
		ok = c.alg.key == keyECDSA && ecdsa.VerifyASN1(pub, digest, c.sig)
	case ed25519.PublicKey:
		return fmt.Errorf("CRL: Ed25519 CRLs are not supported")
	default:
		return fmt.Errorf("CRL: unsupported issuer key %T", pub)
	}
	if !ok {
		return ErrCRLSignature
	}
	c.mu.Lock()
	c.verifiedBy = issuer.RawSubjectPublicKeyInfo
	c.mu.Unlock()
	return nil
}

type keyAlg int

const (
	keyRSA keyAlg = iota + 1
	keyECDSA
)

type sigAlg struct {
	key  keyAlg
	hash crypto.Hash
}

var sigAlgs = map[string]sigAlg{
	"1.2.840.113549.1.1.11": {keyRSA, crypto.SHA256},
	"1.2.840.113549.1.1.12": {keyRSA, crypto.SHA384},
	"1.2.840.113549.1.1.13": {keyRSA, crypto.SHA512},
	"1.2.840.10045.4.3.2":   {keyECDSA, crypto.SHA256},
	"1.2.840.10045.4.3.3":   {keyECDSA, crypto.SHA384},
	"1.2.840.10045.4.3.4":   {keyECDSA, crypto.SHA512},
}

func parseSigAlg(b cryptobyte.String) (sigAlg, error) {
	var seq cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !b.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&oid) {
		return sigAlg{}, errors.New("bad AlgorithmIdentifier")
	}
	a, ok := sigAlgs[oid.String()]
	if !ok {
		return sigAlg{}, fmt.Errorf("unsupported signature algorithm %s (RSA or ECDSA with SHA-256/384/512 only)", oid)
	}
	return a, nil
}
