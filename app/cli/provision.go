package cli

import (
	"context"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"jpkipilot/device"
	"jpkipilot/device/vcard/sim"
	"jpkipilot/device/vpcd"
	"jpkipilot/pki"
	"jpkipilot/pki/jpki"
	"jpkipilot/pki/scp03"
	"jpkipilot/trial"
	"jpkipilot/trial/provision"
	"jpkipilot/trial/qr"
	"jpkipilot/trial/store"
)

func init() {
	register(&Command{
		Name: "provision",
		Usage: "provision android --loan L-0001 [--reader R] [--phone-reader R] [--pin-file F] [--new-pin-file F] [--passphrase-file F] [--staff NAME]" +
			" | proof --monitor M-0001 [--reader R] [--pin-file F]" +
			" | ios --monitor M-0001 --csr F|QR.png --out CERT [--qr CERT.png] [--passphrase-file F]" +
			" | status --loan L-0001 [--read] [--phone-reader R]" +
			" | rollback --loan L-0001 [--phone-reader R] [--passphrase-file F]" +
			" | return --loan L-0001 --staff NAME [--notes T] [--missing A,B] [--unresolved WHY] [--phone-reader R] [--passphrase-file F]" +
			" | vsim --sim ICCID [--vpcd 127.0.0.1:35964] [--once]",
		Summary: "put the user-authentication key and certificate on a lent phone (SIM applet or iOS CSR), check, undo, return",
		Run:     runProvision,
	})
}

// awaitSwap waits until the card in reader has been taken off and another
// put on (one reader for the My Number card and the phone). The PC/SC
// adapter sets it (provision_pcsc.go); tests set their own.
var awaitSwap func(ctx context.Context, reader string) error

func runProvision(env *Env, args []string) error {
	if len(args) == 0 {
		return Usagef("provision: want android, proof, ios, status, rollback, return or vsim")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("provision "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	loanArg := fs.String("loan", "", "loan id, e.g. L-0001")
	monitor := fs.String("monitor", "", "monitor id, e.g. M-0001")
	cardReader := fs.String("reader", "", "reader for the My Number card (default: the first with a card)")
	phoneReader := fs.String("phone-reader", "", "reader the phone is held to (default: the card's reader)")
	pinFile := fs.String("pin-file", "", "file whose first line is the My Number card auth PIN")
	newPINFile := fs.String("new-pin-file", "", "file whose first line is the phone's new 4-digit auth PIN")
	passFile := fs.String("passphrase-file", "", "file whose first line is the trial CA passphrase")
	staff := fs.String("staff", "", "staff member at the counter")
	csrFile := fs.String("csr", "", "PKCS#10 request from the iPhone: PEM, DER, or a PNG/JPEG of its QR code")
	out := fs.String("out", "", "where to write the certificate (PEM)")
	qrOut := fs.String("qr", "", "also write the certificate as a QR code PNG here, for the iPhone to scan")
	read := fs.Bool("read", false, "status: also read the applet state from the phone")
	notes := fs.String("notes", "", "return: condition of what came back")
	missing := fs.String("missing", "", "return: items not returned, comma separated")
	unresolved := fs.String("unresolved", "", "return: why the loan may close although revocation or wiping failed")
	ocspURL := fs.String("ocsp", "", "OCSP responder asked about the My Number card's certificate when no CRL covers it")
	simSerial := fs.String("sim", "", "vsim: ICCID of the SIM whose keys the virtual applet gets")
	vpcdAddr := fs.String("vpcd", "127.0.0.1:35964", "vsim: vpcd driver address (35964: Virtual PCD 00 01)")
	once := fs.Bool("once", false, "vsim: exit when pcscd closes the connection")
	if err := fs.Parse(args); err != nil {
		return Usagef("provision %s: %v", sub, err)
	}
	if fs.NArg() > 0 {
		return Usagef("provision %s: unexpected argument %q", sub, fs.Arg(0))
	}
	var loanID int64
	needLoan := sub == "android" || sub == "status" || sub == "rollback" || sub == "return"
	if needLoan {
		id, ok := trial.ParseLoanID(*loanArg)
		if !ok {
			return Usagef("provision %s: --loan %q: want a loan id such as L-0001", sub, *loanArg)
		}
		loanID = id
	}
	if (sub == "proof" || sub == "ios") && strings.TrimSpace(*monitor) == "" {
		return Usagef("provision %s: --monitor is required", sub)
	}
	if sub == "ios" && (*csrFile == "" || *out == "") {
		return Usagef("provision ios: --csr and --out are required")
	}
	if sub == "return" && strings.TrimSpace(*staff) == "" {
		return Usagef("provision return: --staff is required")
	}
	if sub == "vsim" && *simSerial == "" {
		return Usagef("provision vsim: --sim ICCID is required")
	}
	if *phoneReader == "" {
		*phoneReader = *cardReader
	}

	db, err := store.Open(env.Ctx, env.DSN)
	if err != nil {
		return err
	}
	defer db.Close()
	desk := provision.NewDesk(db)
	if *ocspURL != "" {
		desk.OCSP = pki.OCSPClient(*ocspURL, nil)
	}
	connect, closeAll := cliConnect(env, *cardReader, *phoneReader)
	defer closeAll()
	passphrase := func() ([]byte, error) { return readPassphrase(env, *passFile, false) }

	switch sub {
	case "android":
		pass, err := passphrase()
		if err != nil {
			return err
		}
		newPIN := pinSource(env, *newPINFile)
		res, err := desk.Provision(env.Ctx, provision.AndroidRequest{
			LoanID: loanID, Staff: *staff, Passphrase: pass, Connect: connect,
			CardPIN: pinSource(env, *pinFile),
			NewPIN: func(ctx context.Context) (string, error) {
				return newPIN(ctx, jpki.PINRequest{Kind: jpki.Auth, TriesLeft: jpki.Auth.MaxTries(), Max: jpki.Auth.MaxTries(), Purpose: "set on the phone (choose 4 digits)"})
			},
			PhonePIN: newPIN,
			Progress: func(s provision.Step) { fmt.Fprintf(env.Stderr, "step %s done\n", s) },
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s provisioned: SIM %s, certificate %s for %s\n",
			trial.FormatLoanID(loanID), res.Record.SIM, res.Record.CertSerial, res.Record.MonitorID)
		return nil
	case "proof":
		card, err := connect(env.Ctx, provision.HoldMyNumberCard)
		if err != nil {
			return err
		}
		p, err := desk.ProveIdentity(env.Ctx, strings.TrimSpace(*monitor), *staff, card, pinSource(env, *pinFile))
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s: identity proven with card certificate issued by %s\n", p.MonitorID, p.CardCert.Issuer)
		return nil
	case "ios":
		csr, err := os.ReadFile(*csrFile)
		if err != nil {
			return fmt.Errorf("--csr: %w", err)
		}
		if qr.IsImage(csr) {
			if csr, err = qr.Read(csr); err != nil {
				return fmt.Errorf("--csr %s: %w", *csrFile, err)
			}
		}
		if _, err := provision.ParseCSR(csr); err != nil {
			return err // before asking for the passphrase
		}
		pass, err := passphrase()
		if err != nil {
			return err
		}
		issued, err := desk.IssueIOS(env.Ctx, provision.IOSRequest{MonitorID: strings.TrimSpace(*monitor), Staff: *staff, CSR: csr, Passphrase: pass})
		if err != nil {
			return err
		}
		certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: issued.Cert.Raw})
		if err := writeOutput(env, *out, certPEM); err != nil {
			return err
		}
		if *qrOut != "" {
			img, err := qr.PNG(certPEM, 600)
			if err == nil {
				err = writeAtomic(*qrOut, func(w io.Writer) error { _, err := w.Write(img); return err })
			}
			if err != nil {
				return fmt.Errorf("certificate %s issued and written to %s, but its QR code was not: %w", issued.Serial.Text(16), *out, err)
			}
		}
		fmt.Fprintf(env.Stderr, "certificate %s issued to %s\n", issued.Serial.Text(16), issued.Holder)
		return nil
	case "vsim":
		return serveVirtualSIM(env, desk, *simSerial, *vpcdAddr, *once)
	case "status":
		if *read {
			st, err := desk.Inspect(env.Ctx, loanID, connect)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "applet (read now): %s\n", st)
		}
		return provisionStatus(env, desk, loanID)
	case "rollback":
		var pass []byte
		if *passFile != "" {
			if pass, err = passphrase(); err != nil {
				return err
			}
		}
		rec, err := desk.Rollback(env.Ctx, provision.RollbackRequest{LoanID: loanID, Staff: *staff, Connect: connect, Passphrase: pass})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s rolled back: applet %s", trial.FormatLoanID(loanID), rec.AppletState)
		if rec.CertSerial != "" {
			fmt.Fprintf(env.Stdout, ", certificate %s revoked", rec.CertSerial)
		}
		fmt.Fprintln(env.Stdout)
		return nil
	case "return":
		pass, err := passphrase()
		if err != nil {
			return err
		}
		res, err := desk.Return(env.Ctx, provision.ReturnRequest{LoanID: loanID, Passphrase: pass, Connect: connect,
			Unresolved: *unresolved, Return: trial.Return{Staff: *staff, Notes: *notes, Missing: trial.SplitItems(*missing)}})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s checked in (certificate revoked: %v, applet wiped: %v)\n", trial.FormatLoanID(loanID), res.Revoked, res.Wiped)
		return nil
	}
	return Usagef("provision: unknown subcommand %q (want android, proof, ios, status, rollback, return or vsim)", sub)
}

// serveVirtualSIM serves a blank virtual SIM applet holding the SCP03 keys
// on file for a SIM, so the Android flow can be shown without a phone. Its
// personalisation lives as long as the command runs.
func serveVirtualSIM(env *Env, desk *provision.Desk, iccid, addr string, once bool) error {
	keys, err := desk.Loans.SIMKeys(env.Ctx, iccid)
	if err != nil {
		return err
	}
	applet, err := sim.New(sim.Config{Keys: scp03.Keys{KVN: byte(keys.KVN), ENC: keys.ENC, MAC: keys.MAC, DEK: keys.DEK}})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "virtual SIM applet for %s (blank, %s)\n", trial.NormalizeSerial(iccid), keys)
	fmt.Fprintf(env.Stdout, "serving into vpcd at %s%s; stop with Ctrl-C\n", addr, readerHint(addr))
	b := &vpcd.Bridge{Addr: addr, Card: applet, Reconnect: !once,
		Logf: func(format string, a ...any) { fmt.Fprintf(env.Stderr, format+"\n", a...) }}
	err = b.Serve(env.Ctx)
	if errors.Is(err, vpcd.ErrPeerClosed) {
		return errors.New("pcscd closed the connection (phone removed)")
	}
	if err != nil {
		return fmt.Errorf("vpcd at %s: %w (is pcscd running with the vpcd driver?)", addr, err)
	}
	return nil
}

func provisionStatus(env *Env, desk *provision.Desk, loanID int64) error {
	rec, evs, err := desk.ForLoan(env.Ctx, loanID)
	if errors.Is(err, store.ErrNotFound) {
		fmt.Fprintf(env.Stdout, "%s: never provisioned\n", trial.FormatLoanID(loanID))
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s %s: %s, last step %q, applet %q, SIM %s, certificate %q\n",
		trial.FormatLoanID(loanID), rec.Path, rec.Status, rec.Step, rec.AppletState, rec.SIM, rec.CertSerial)
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	for _, e := range evs {
		ok := "ok"
		if !e.OK {
			ok = "FAILED"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", e.At.In(trial.JST).Format("2006-01-02 15:04:05"), e.Step, ok, e.AppletState, oneLine(e.Detail))
	}
	return w.Flush()
}

// cliConnect reaches the My Number card and the phone through PC/SC. When
// both go to one reader, it asks for the swap and waits for it.
func cliConnect(env *Env, cardReader, phoneReader string) (provision.ConnectFunc, func()) {
	var (
		open       *CardConn
		held       provision.Hold
		heldReader string
	)
	closeAll := func() {
		if open != nil {
			open.Close()
			open = nil
		}
	}
	return func(ctx context.Context, h provision.Hold) (*device.Card, error) {
		if openCard == nil {
			return nil, errors.New("this build has no PC/SC support (it was built without cgo)")
		}
		reader := phoneReader
		if h == provision.HoldMyNumberCard {
			reader = cardReader
		}
		if open != nil && held == h {
			return &device.Card{T: open.Card.T}, nil
		}
		sameReader := open != nil && (reader == "" || reader == heldReader)
		if sameReader {
			reader = heldReader
			fmt.Fprintf(env.Stderr, "Take the %s off %q and hold the %s to it.\n", held, heldReader, h)
			closeAll()
			if awaitSwap != nil {
				if err := awaitSwap(ctx, reader); err != nil {
					return nil, err
				}
			}
		} else {
			closeAll()
			fmt.Fprintf(env.Stderr, "Hold the %s to the reader.\n", h)
		}
		cc, err := openCard(ctx, reader)
		if err != nil {
			return nil, err
		}
		open, held, heldReader = cc, h, cc.Reader
		return cc.Card, nil
	}, closeAll
}
