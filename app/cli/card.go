package cli

import (
	"bufio"
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"jpkipilot/device"
	"jpkipilot/pki/jpki"
)

func init() {
	register(&Command{
		Name:    "card",
		Usage:   "card info [--reader NAME] | pin-status | cert auth|authca|sign|signca [--pem] [--out F] | sign --key auth|sign --in F --out SIG [--pin-file F]",
		Summary: "JPKI card: token info, PIN tries left, certificates, signatures",
		Run:     runCard,
	})
}

// CardConn is a connected card as the card commands use it.
type CardConn struct {
	Reader string
	Card   *device.Card
	Close  func() error
}

// openCard connects to the reader called name, or to the first reader that
// holds a card when name is empty. The PC/SC adapter sets it (card_pcsc.go,
// built with cgo); tests set a virtual reader.
var openCard func(ctx context.Context, name string) (*CardConn, error)

func runCard(env *Env, args []string) error {
	if len(args) == 0 {
		return Usagef("which card command? info, pin-status, cert or sign")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("card "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	reader := fs.String("reader", "", "reader name (default: the first reader with a card)")
	var run func(ctx context.Context, cc *CardConn, c *jpki.Client, pos []string) error
	switch sub {
	case "info":
		run = func(ctx context.Context, cc *CardConn, c *jpki.Client, pos []string) error {
			return cardInfo(ctx, env, cc, c)
		}
	case "pin-status":
		run = func(ctx context.Context, cc *CardConn, c *jpki.Client, pos []string) error {
			return cardPINStatus(ctx, env, c)
		}
	case "cert":
		asPEM := fs.Bool("pem", false, "write PEM instead of DER")
		out := fs.String("out", "", "output file (default: standard output)")
		pinFile := fs.String("pin-file", "", "file whose first line is the sign PIN")
		run = func(ctx context.Context, cc *CardConn, c *jpki.Client, pos []string) error {
			kind, _ := jpki.ParseCertKind(pos[0]) // checked before connecting
			return cardCert(ctx, env, c, kind, *asPEM, *out, *pinFile)
		}
	case "sign":
		key := fs.String("key", "", "auth or sign")
		in := fs.String("in", "", "file to sign")
		out := fs.String("out", "", "signature output file")
		pinFile := fs.String("pin-file", "", "file whose first line is the PIN")
		hash := fs.String("hash", "sha256", "sha256, sha384 or sha512")
		run = func(ctx context.Context, cc *CardConn, c *jpki.Client, pos []string) error {
			return cardSign(ctx, env, c, *key, *in, *out, *pinFile, *hash)
		}
	default:
		return Usagef("unknown card command %q (want info, pin-status, cert or sign)", sub)
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if err := checkCardArgs(sub, fs, pos); err != nil {
		return err
	}
	if openCard == nil {
		return errors.New("this build has no PC/SC support (it was built without cgo)")
	}
	cc, err := openCard(env.Ctx, *reader)
	if err != nil {
		return err
	}
	defer cc.Close()
	return run(env.Ctx, cc, jpki.New(cc.Card), pos)
}

// parseInterleaved parses flags that may come before or after positional
// arguments ("cert sign --pem" as well as "cert --pem sign").
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, Usagef("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// checkCardArgs rejects bad usage before a reader is touched.
func checkCardArgs(sub string, fs *flag.FlagSet, pos []string) error {
	switch sub {
	case "cert":
		if len(pos) != 1 {
			return Usagef("card cert takes one certificate: auth, authca, sign or signca")
		}
		if _, err := jpki.ParseCertKind(pos[0]); err != nil {
			return Usagef("%v", strings.TrimPrefix(err.Error(), "jpki: "))
		}
		return nil
	case "sign":
		if len(pos) != 0 {
			return Usagef("card sign takes no arguments, only flags (got %q)", pos[0])
		}
		get := func(name string) string { return fs.Lookup(name).Value.String() }
		if _, err := jpki.ParseKind(get("key")); err != nil {
			return Usagef("--key: want auth or sign")
		}
		if get("in") == "" || get("out") == "" {
			return Usagef("card sign needs --in FILE and --out SIG")
		}
		if _, err := parseHash(get("hash")); err != nil {
			return Usagef("%v", err)
		}
		return nil
	}
	if len(pos) != 0 {
		return Usagef("card %s takes no arguments (got %q)", sub, pos[0])
	}
	return nil
}

func cardInfo(ctx context.Context, env *Env, cc *CardConn, c *jpki.Client) error {
	ti, err := c.TokenInfo(ctx)
	if errors.Is(err, jpki.ErrNotJPKI) {
		return fmt.Errorf("the card in %q has no JPKI application", cc.Reader)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "reader: %s\ntoken:  %s\nkind:   %s\n", cc.Reader, ti.Label, ti.Kind)
	return nil
}

func cardPINStatus(ctx context.Context, env *Env, c *jpki.Client) error {
	for _, kind := range []jpki.Kind{jpki.Auth, jpki.Sign} {
		st, err := c.PINStatus(ctx, kind)
		switch {
		case kind == jpki.Sign && errors.Is(err, device.ErrNotFound):
			// A phone token may carry the authentication pair only.
			fmt.Fprintf(env.Stdout, "%s PIN: not on this token\n", kind)
			continue
		case err != nil:
			return err
		case st.Blocked:
			fmt.Fprintf(env.Stdout, "%s PIN: blocked (0 of %d tries left)\n", kind, st.Max)
		default:
			fmt.Fprintf(env.Stdout, "%s PIN: %d of %d tries left\n", kind, st.TriesLeft, st.Max)
		}
	}
	return nil
}

func cardCert(ctx context.Context, env *Env, c *jpki.Client, kind jpki.CertKind, asPEM bool, out, pinFile string) error {
	cert, err := c.ReadCertificate(ctx, kind, pinSource(env, pinFile))
	if err != nil {
		return err
	}
	data := cert.Raw
	if asPEM {
		data = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	}
	return writeOutput(env, out, data)
}

func parseHash(s string) (crypto.Hash, error) {
	switch strings.ToLower(s) {
	case "sha256", "sha-256":
		return crypto.SHA256, nil
	case "sha384", "sha-384":
		return crypto.SHA384, nil
	case "sha512", "sha-512":
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("--hash %q: want sha256, sha384 or sha512", s)
}

func cardSign(ctx context.Context, env *Env, c *jpki.Client, key, in, out, pinFile, hashName string) error {
	kind, _ := jpki.ParseKind(key) // checked before connecting
	h, _ := parseHash(hashName)
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	hw := h.New()
	_, err = io.Copy(hw, f)
	f.Close()
	if err != nil {
		return fmt.Errorf("read %s: %w", in, err)
	}
	digest := hw.Sum(nil)
	pin := pinSource(env, pinFile)
	signer, err := c.Signer(ctx, kind, pin)
	if err != nil {
		return err
	}
	sig, err := signer.SignContext(ctx, digest, h)
	if err != nil {
		return err
	}
	// A signature that does not verify against the card's own certificate
	// is never written out.
	if err := rsa.VerifyPKCS1v15(signer.Public().(*rsa.PublicKey), h, digest, sig); err != nil {
		return fmt.Errorf("the card's signature does not verify against its %s certificate: %w", kind, err)
	}
	if err := writeOutput(env, out, sig); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "signed %s with the %s key (%v, RSA PKCS#1 v1.5): %s\n", in, kind, h, out)
	return nil
}

// writeOutput writes to the named file, or to standard output for "" or "-".
// A file is written whole or not at all.
func writeOutput(env *Env, name string, data []byte) error {
	if name == "" || name == "-" {
		_, err := env.Stdout.Write(data)
		return err
	}
	return writeAtomic(name, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomic writes name whole or not at all: write fills a temporary file
// beside it (readable by its owner only), which is renamed over name only
// when write and the close succeeded.
func writeAtomic(name string, write func(w io.Writer) error) error {
	tmp, err := os.CreateTemp(dirOf(name), ".jpkipilot-*")
	if err != nil {
		return err
	}
	err = write(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

func dirOf(name string) string {
	if i := strings.LastIndexByte(name, os.PathSeparator); i >= 0 {
		return name[:i+1]
	}
	return "."
}

// pinSource returns the PIN callback of the card commands: the first line of
// pinFile, or a prompt on the terminal with echo off, or, when standard input
// is not a terminal, its next line (with a warning on stderr). The PIN is
// never echoed, printed or logged.
func pinSource(env *Env, pinFile string) jpki.PINFunc {
	var stdin *bufio.Reader
	return func(ctx context.Context, req jpki.PINRequest) (string, error) {
		prompt := fmt.Sprintf("%s PIN to %s (%d of %d tries left): ", req.Kind, req.Purpose, req.TriesLeft, req.Max)
		if pinFile != "" {
			b, err := os.ReadFile(pinFile)
			if err != nil {
				return "", fmt.Errorf("--pin-file: %w", err)
			}
			return firstLine(string(b)), nil
		}
		if f, ok := env.Stdin.(*os.File); ok && isTerminal(f) {
			pin, err := readPINNoEcho(ctx, f, func() { fmt.Fprint(env.Stderr, prompt) })
			fmt.Fprintln(env.Stderr)
			if err != nil {
				return "", err
			}
			return pin, nil
		}
		fmt.Fprintf(env.Stderr, "warning: no terminal to prompt on; reading the %s PIN to %s from standard input\n", req.Kind, req.Purpose)
		if stdin == nil {
			stdin = bufio.NewReader(env.Stdin)
		}
		line, err := stdin.ReadString('\n')
		if err != nil && (err != io.EOF || line == "") {
			if err == io.EOF {
				return "", fmt.Errorf("no %s PIN on standard input: %w", req.Kind, jpki.ErrPINCancelled)
			}
			return "", err
		}
		return firstLine(line), nil
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimRight(s, "\r")
}
