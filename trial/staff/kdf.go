package staff

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// KDFParams are argon2id's cost parameters.
type KDFParams struct {
	Time      uint32 // passes
	MemoryKiB uint32 // memory in KiB
	Threads   uint8  // lanes
}

// DefaultKDF is the production cost for passwords: t=3, m=64 MiB, p=2
// (RFC 9106's second recommended option, with two lanes for the laptops'
// two cores). A login runs it twice — once to check the password, once to
// derive the key that seals the account's private key: about 0.6 CPU
// seconds, spread over both cores (BenchmarkLogin reports cpu-ms/op).
var DefaultKDF = KDFParams{Time: 3, MemoryKiB: 64 * 1024, Threads: 2}

// DefaultPINKDF is the cost for staff PINs, lighter than for passwords: a
// kiosk's PIN is checked against every coordinator's and venue staff
// account's PIN hash in turn (there is no login to pick one), so the
// password cost would make leaving a kiosk take seconds. A 6–8 digit PIN
// has at most 10^8 values whatever the cost, so what protects it is the
// throttle (the same back-off as logins, on one key for all kiosks), not
// the KDF; the KDF only makes an offline search of a stolen store cost
// t=2, m=19 MiB (OWASP's minimum for argon2id) per guess and account.
var DefaultPINKDF = KDFParams{Time: 2, MemoryKiB: 19 * 1024, Threads: 1}

// TestKDF is a deliberately cheap cost for tests of packages that create
// accounts (set Service.KDF to it). Never use it for a real store.
var TestKDF = KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

func (p KDFParams) cost() uint64 { return uint64(p.Time) * uint64(p.MemoryKiB) }

func (p KDFParams) valid() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("argon2id time %d out of range 1–%d", p.Time, maxTime)
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB:
		return fmt.Errorf("argon2id memory %d KiB out of range", p.MemoryKiB)
	case p.Threads < 1:
		return errors.New("argon2id needs at least one thread")
	}
	return nil
}

// Bounds on stored parameters, so an altered row cannot make a login
// allocate gigabytes or spin for minutes.
const (
	maxTime      = 64
	maxMemoryKiB = 1 << 20 // 1 GiB
	saltLen      = 16
	hashLen      = 32
)

func (p KDFParams) derive(secret, salt []byte, n uint32) []byte {
	return argon2.IDKey(secret, salt, p.Time, p.MemoryKiB, p.Threads, n)
}

// phc is a parsed argon2id string in the PHC format:
// $<alg>$v=19$m=<KiB>,t=<time>,p=<threads>$<salt>$<payload>, base64 without
// padding. alg is "argon2id" for password and PIN hashes (payload = hash)
// and "argon2id-aesgcm" for a sealed private key (payload = nonce‖box).
type phc struct {
	Alg     string
	Params  KDFParams
	Salt    []byte
	Payload []byte
}

func (h phc) String() string {
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$%s$v=%d$m=%d,t=%d,p=%d$%s$%s", h.Alg, argon2.Version,
		h.Params.MemoryKiB, h.Params.Time, h.Params.Threads, enc.EncodeToString(h.Salt), enc.EncodeToString(h.Payload))
}

var errPHC = errors.New("malformed argon2id string")

// parsePHC parses s; alg must match. It never returns parameters outside
// the bounds above.
func parsePHC(s, alg string) (phc, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != alg {
		return phc{}, fmt.Errorf("%w: not a $%s$ string", errPHC, alg)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phc{}, fmt.Errorf("%w: version %q", errPHC, parts[2])
	}
	h := phc{Alg: alg}
	seen := 0
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return phc{}, fmt.Errorf("%w: parameter %q", errPHC, kv)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || (len(v) > 1 && v[0] == '0') {
			return phc{}, fmt.Errorf("%w: parameter %q", errPHC, kv)
		}
		switch {
		case k == "m" && seen == 0:
			h.Params.MemoryKiB = uint32(n)
		case k == "t" && seen == 1:
			h.Params.Time = uint32(n)
		case k == "p" && seen == 2 && n <= 255:
			h.Params.Threads = uint8(n)
		default:
			return phc{}, fmt.Errorf("%w: parameter %q", errPHC, kv)
		}
		seen++
	}
	if seen != 3 {
		return phc{}, fmt.Errorf("%w: want m, t, p", errPHC)
	}
	if err := h.Params.valid(); err != nil {
		return phc{}, fmt.Errorf("%w: %w", errPHC, err)
	}
	var err error
	if h.Salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil || len(h.Salt) < 8 || len(h.Salt) > 64 {
		return phc{}, fmt.Errorf("%w: salt", errPHC)
	}
	if h.Payload, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil || len(h.Payload) < 16 || len(h.Payload) > 256 {
		return phc{}, fmt.Errorf("%w: payload", errPHC)
	}
	return h, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux; it panics itself since Go 1.24
	}
	return b
}

// hashSecret returns the PHC string of an argon2id hash of secret.
func hashSecret(secret string, p KDFParams) string {
	salt := randomBytes(saltLen)
	return phc{Alg: "argon2id", Params: p, Salt: salt, Payload: p.derive([]byte(secret), salt, hashLen)}.String()
}

// verifySecret reports whether secret matches the stored PHC hash, in time
// independent of where they differ.
func verifySecret(stored, secret string) (bool, error) {
	h, err := parsePHC(stored, "argon2id")
	if err != nil {
		return false, err
	}
	got := h.Params.derive([]byte(secret), h.Salt, uint32(len(h.Payload)))
	return subtle.ConstantTimeCompare(got, h.Payload) == 1, nil
}
