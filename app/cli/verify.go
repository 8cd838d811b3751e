package cli

import (
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"jpkipilot/pki"
	"jpkipilot/trial/store"
)

func init() {
	register(&Command{
		Name:    "verify",
		Usage:   "verify CERT [--crl F] [--ocsp URL] [--purpose auth|sign] [--at TIME]",
		Summary: "validate a certificate: chain, validity, key usage, revocation",
		Run:     runVerify,
	})
}

func runVerify(env *Env, args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var crlFiles multiFlag
	fs.Var(&crlFiles, "crl", "CRL file, DER or PEM (repeatable); default: the latest stored CRL of the issuer")
	ocspURL := fs.String("ocsp", "", "ask this OCSP responder (\"aia\": the one the certificate names)")
	purpose := fs.String("purpose", "", "auth or sign (default: from the key usage)")
	atFlag := fs.String("at", "", "validate at this time (RFC 3339) instead of now")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return Usagef("give one CERT (PEM or DER)")
	}
	opts := pki.Options{Ctx: env.Ctx}
	if *atFlag != "" {
		if opts.At, err = time.Parse(time.RFC3339, *atFlag); err != nil {
			return Usagef("--at: %v", err)
		}
	}
	switch *purpose {
	case "auth":
		opts.Purpose = pki.PurposeAuth
	case "sign":
		opts.Purpose = pki.PurposeSign
	case "":
	default:
		return Usagef("--purpose %q: want auth or sign", *purpose)
	}
	b, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	certs, err := pki.ParseCertificates(b)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	cert := certs[0]
	opts.Intermediates = certs[1:] // a PEM bundle may carry its chain
	if opts.Purpose == 0 {
		opts.Purpose = pki.PurposeAuth
		if cert.KeyUsage&x509.KeyUsageContentCommitment != 0 {
			opts.Purpose = pki.PurposeSign
		}
	}

	db, err := store.Open(env.Ctx, env.DSN)
	if err != nil {
		return err
	}
	defer db.Close()
	if opts.Roots, err = pki.Anchors(env.Ctx, db); err != nil {
		return err
	}
	ca, err := pki.Open(env.Ctx, db)
	switch {
	case errors.Is(err, pki.ErrNotInitialized):
	case err != nil:
		return err
	default:
		opts.Intermediates = append(opts.Intermediates, ca.Certificate(pki.RoleAuth), ca.Certificate(pki.RoleSign))
	}
	for _, f := range crlFiles {
		idx, err := pki.LoadCRL(f, nil) // Verify checks it against the issuer in the chain
		if err != nil {
			return err
		}
		opts.CRLs = append(opts.CRLs, idx)
	}
	switch {
	case *ocspURL == "aia":
		opts.OCSP = pki.OCSPClient("", nil)
	case *ocspURL != "":
		opts.OCSP = pki.OCSPClient(*ocspURL, nil)
	case len(crlFiles) == 0 && ca != nil:
		if role, ok := ca.RoleOf(cert); ok {
			der, err := pki.LatestCRL(env.Ctx, db, role)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if der != nil {
				idx, err := pki.ParseCRL(der, nil)
				if err != nil {
					return fmt.Errorf("stored %s CRL: %w", role, err)
				}
				opts.CRLs = append(opts.CRLs, idx)
			}
		}
	}
	chain, err := pki.Verify(cert, opts)
	if err != nil {
		return err
	}
	names := make([]string, len(chain))
	for i, c := range chain {
		names[i] = c.Subject.String()
	}
	fmt.Fprintf(env.Stdout, "OK (%s): %s\n", opts.Purpose, strings.Join(names, " <- "))
	return nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }
