package cli

import (
	"bufio"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"jpkipilot/pki"
	"jpkipilot/trial/store"
)

func init() {
	register(&Command{
		Name:    "ca",
		Usage:   "ca init [--org O] [--crl-url URL] [--ocsp-url URL] [--passphrase-file F] | issue --kind auth|sign --holder M-0001 [--name N] --pubkey F|--new-key F --out CERT | revoke SERIAL [--reason R] | crl --ca auth|sign --out F [--pem] | list | import-anchor FILE",
		Summary: "the trial CA",
		Run:     runCA,
	})
}

const caUsage = `ca init [--passphrase-file F] [--org O] [--crl-url BASE] [--ocsp-url URL]
ca issue --kind auth|sign --holder ID [--name NAME] (--pubkey PEMFILE | --new-key KEYOUT.pem) --out CERT.pem [--days N]
ca revoke SERIAL [--reason keyCompromise|superseded|cessationOfOperation|...]
ca crl --ca auth|sign --out FILE.crl [--days N] [--pem]
ca list
ca import-anchor FILE`

func runCA(env *Env, args []string) error {
	if len(args) == 0 {
		return Usagef("missing sub-command\n%s", caUsage)
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("ca "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	passFile := fs.String("passphrase-file", "", "file whose first line is the CA passphrase")
	var run func(db *store.DB, pos []string) error
	check := func(pos []string) error { // usage is checked before the store opens
		if len(pos) != 0 {
			return Usagef("unexpected argument %q", pos[0])
		}
		return nil
	}
	switch sub {
	case "init":
		org := fs.String("org", "", "organisation in the CA names")
		crlURL := fs.String("crl-url", "", "base URL of the CRLs (BASE/auth.crl, BASE/sign.crl)")
		ocspURL := fs.String("ocsp-url", "", "URL of the OCSP responder")
		run = func(db *store.DB, pos []string) error {
			pass, err := readPassphrase(env, *passFile, true)
			if err != nil {
				return err
			}
			ca, err := pki.Init(env.Ctx, db, pass, pki.InitOptions{Organization: *org, CRLBaseURL: *crlURL, OCSPURL: *ocspURL})
			if err != nil {
				return err
			}
			for _, r := range []pki.Role{pki.RoleRoot, pki.RoleAuth, pki.RoleSign} {
				c := ca.Certificate(r)
				fmt.Fprintf(env.Stdout, "%-4s %s  sha256 %s\n", r, c.Subject, pki.Fingerprint(c))
			}
			return nil
		}
	case "issue":
		kind := fs.String("kind", "", "auth or sign")
		holder := fs.String("holder", "", "the monitor's pseudonymous id")
		name := fs.String("name", "", "holder's name (signature certificates only)")
		pubFile := fs.String("pubkey", "", "PEM or DER public key the card or phone generated")
		newKey := fs.String("new-key", "", "generate a demo key and write it (PKCS#8 PEM) here")
		out := fs.String("out", "", "certificate output (PEM); - for standard output")
		days := fs.Int("days", 0, "validity in days (default 5 years)")
		var k pki.Role
		check = func(pos []string) error {
			if len(pos) != 0 {
				return Usagef("unexpected argument %q", pos[0])
			}
			var err error
			if k, err = pki.ParseKind(*kind); err != nil {
				return Usagef("--kind: %v", err)
			}
			if *holder == "" || *out == "" {
				return Usagef("--holder and --out are required")
			}
			if (*pubFile == "") == (*newKey == "") {
				return Usagef("give exactly one of --pubkey and --new-key")
			}
			return nil
		}
		run = func(db *store.DB, pos []string) error {
			var err error
			req := pki.IssueRequest{Kind: k, Holder: *holder, Name: *name, Validity: time.Duration(*days) * 24 * time.Hour}
			if *pubFile != "" {
				if req.PublicKey, err = loadPublicKey(*pubFile); err != nil {
					return err
				}
			}
			ca, err := unlockCA(env, db, *passFile)
			if err != nil {
				return err
			}
			var rec *pki.Issued
			if *newKey != "" {
				rec, err = issueWithNewKey(env, ca, req, *newKey)
			} else {
				rec, err = ca.Issue(env.Ctx, req)
			}
			if err != nil {
				return err
			}
			if err := writeOutput(env, *out, pki.PEMCertificate(rec.Cert)); err != nil {
				return err
			}
			if *out != "-" {
				fmt.Fprintf(env.Stdout, "issued %s certificate serial %s for %s, valid until %s\n",
					rec.Kind, pki.SerialHex(rec.Serial), rec.Holder, rec.NotAfter.Format(time.DateOnly))
			}
			return nil
		}
	case "revoke":
		reason := fs.String("reason", "unspecified", "RFC 5280 reason")
		var serial *big.Int
		var r pki.RevocationReason
		check = func(pos []string) error {
			if len(pos) != 1 {
				return Usagef("give one SERIAL")
			}
			var err error
			if serial, err = pki.ParseSerial(pos[0]); err != nil {
				return Usagef("%v", err)
			}
			if r, err = pki.ParseRevocationReason(*reason); err != nil {
				return Usagef("--reason: %v", err)
			}
			return nil
		}
		run = func(db *store.DB, pos []string) error {
			// The passphrase is asked for as authority to revoke, though
			// revoking signs nothing until the next CRL.
			ca, err := unlockCA(env, db, *passFile)
			if err != nil {
				return err
			}
			if err := ca.Revoke(env.Ctx, serial, r); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "revoked %s (%s); publish a CRL with `jpkipilot ca crl`\n", pki.SerialHex(serial), r)
			return nil
		}
	case "crl":
		which := fs.String("ca", "", "auth or sign")
		out := fs.String("out", "", "CRL output file (DER unless --pem)")
		days := fs.Int("days", 7, "days until nextUpdate")
		asPEM := fs.Bool("pem", false, "write PEM instead of DER")
		var role pki.Role
		check = func(pos []string) error {
			if len(pos) != 0 {
				return Usagef("unexpected argument %q", pos[0])
			}
			var err error
			if role, err = pki.ParseKind(*which); err != nil {
				return Usagef("--ca: %v", err)
			}
			if *out == "" || *days <= 0 {
				return Usagef("--out is required and --days must be positive")
			}
			return nil
		}
		run = func(db *store.DB, pos []string) error {
			ca, err := unlockCA(env, db, *passFile)
			if err != nil {
				return err
			}
			der, err := ca.PublishCRL(env.Ctx, role, time.Duration(*days)*24*time.Hour)
			if err != nil {
				return err
			}
			if *asPEM {
				der = pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
			}
			return writeOutput(env, *out, der)
		}
	case "list":
		run = func(db *store.DB, pos []string) error {
			ca, err := pki.Open(env.Ctx, db)
			if err != nil {
				return err
			}
			list, err := ca.List(env.Ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SERIAL\tKIND\tHOLDER\tNOT AFTER\tSTATUS\tCARD")
			for _, c := range list {
				status := "valid"
				if c.Revoked() {
					status = fmt.Sprintf("revoked %s (%s)", c.RevokedAt.Format(time.DateOnly), c.RevocationReason)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", pki.SerialHex(c.Serial), c.Kind, c.Holder, c.NotAfter.Format(time.DateOnly), status, certOrigin(c))
			}
			return tw.Flush()
		}
	case "import-anchor":
		check = func(pos []string) error {
			if len(pos) != 1 {
				return Usagef("give one FILE (PEM or DER)")
			}
			return nil
		}
		run = func(db *store.DB, pos []string) error {
			b, err := os.ReadFile(pos[0])
			if err != nil {
				return err
			}
			certs, err := pki.ParseCertificates(b)
			if err != nil {
				return fmt.Errorf("%s: %w", pos[0], err)
			}
			for _, c := range certs {
				if !c.IsCA {
					return fmt.Errorf("%s: %q is not a CA certificate; nothing imported", pos[0], c.Subject.String())
				}
			}
			for _, c := range certs {
				added, err := pki.ImportAnchor(env.Ctx, db, c, pos[0])
				if err != nil {
					return err
				}
				state := "imported"
				if !added {
					state = "already a trust anchor"
				}
				fmt.Fprintf(env.Stdout, "%s: %s  sha256 %s\n", state, c.Subject, pki.Fingerprint(c))
			}
			return nil
		}
	default:
		return Usagef("unknown sub-command %q\n%s", sub, caUsage)
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if err := check(pos); err != nil {
		return err
	}
	db, err := store.Open(env.Ctx, env.DSN)
	if err != nil {
		return err
	}
	defer db.Close()
	return run(db, pos)
}

// certOrigin tells a virtual card's certificate (its key lived only in
// the process that served it) from a real card's or phone's, and says
// when a certificate's name is sealed with the personal data.
func certOrigin(c *pki.Issued) string {
	switch {
	case c.Virtual && c.VirtualRun != "":
		return "virtual (run " + c.VirtualRun + ")"
	case c.Virtual:
		return "virtual"
	case c.NameSealed:
		return "- (name sealed)"
	}
	return "-"
}

func unlockCA(env *Env, db *store.DB, passFile string) (*pki.CA, error) {
	ca, err := pki.Open(env.Ctx, db)
	if err != nil {
		return nil, err
	}
	pass, err := readPassphrase(env, passFile, false)
	if err != nil {
		return nil, err
	}
	if err := ca.Unlock(env.Ctx, pass); err != nil {
		return nil, err
	}
	return ca, nil
}

func issueWithNewKey(env *Env, ca *pki.CA, req pki.IssueRequest, keyOut string) (*pki.Issued, error) {
	rec, key, err := ca.IssueWithNewKey(env.Ctx, req)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := writePrivate(keyOut, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		return nil, err
	}
	return rec, nil
}

// writePrivate writes a key file readable by its owner only, whole or not at all.
func writePrivate(name string, data []byte) error {
	return writeAtomic(name, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// loadPublicKey reads a PKIX ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY")
// key, PEM or DER.
func loadPublicKey(path string) (crypto.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := parsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

func parsePublicKey(b []byte) (crypto.PublicKey, error) {
	der, typ := b, ""
	if blk, _ := pem.Decode(b); blk != nil {
		der, typ = blk.Bytes, blk.Type
	}
	if typ == "" || typ == "PUBLIC KEY" {
		if k, err := x509.ParsePKIXPublicKey(der); err == nil {
			return k, nil
		}
	}
	if typ == "" || typ == "RSA PUBLIC KEY" {
		if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
			return k, nil
		}
	}
	return nil, errors.New("not a PEM or DER public key (PUBLIC KEY or RSA PUBLIC KEY)")
}

// readPassphrase reads the CA passphrase from passFile's first line, else a
// no-echo prompt on the terminal (twice when confirm), else a line of
// standard input with a warning. It is never echoed or logged.
func readPassphrase(env *Env, passFile string, confirm bool) ([]byte, error) {
	if passFile != "" {
		b, err := os.ReadFile(passFile)
		if err != nil {
			return nil, fmt.Errorf("--passphrase-file: %w", err)
		}
		p := firstLine(string(b))
		if p == "" {
			return nil, errors.New("--passphrase-file: the first line is empty")
		}
		return []byte(p), nil
	}
	if f, ok := env.Stdin.(*os.File); ok && isTerminal(f) {
		ask := func(prompt string) (string, error) {
			p, err := readPINNoEcho(env.Ctx, f, func() { fmt.Fprint(env.Stderr, prompt) })
			fmt.Fprintln(env.Stderr)
			return p, err
		}
		p, err := ask("CA passphrase: ")
		if err != nil {
			return nil, err
		}
		if confirm {
			again, err := ask("CA passphrase again: ")
			if err != nil {
				return nil, err
			}
			if again != p {
				return nil, errors.New("the two passphrases differ")
			}
		}
		return []byte(p), nil
	}
	fmt.Fprintln(env.Stderr, "warning: no terminal to prompt on; reading the CA passphrase from standard input")
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return nil, errors.New("no CA passphrase on standard input (use --passphrase-file)")
	}
	p := firstLine(line)
	if p == "" {
		return nil, errors.New("empty CA passphrase")
	}
	return []byte(strings.Clone(p)), nil
}
