package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"

	"jpkipilot/device/vcard"
	"jpkipilot/device/vpcd"
	"jpkipilot/pki"
	"jpkipilot/trial/store"
)

func init() {
	register(&Command{
		Name:    "vcard",
		Usage:   "vcard --vpcd 127.0.0.1:35963 --profile mynumber|phone [--holder ID] [--auth-pin PIN --sign-pin PIN] [--trial-ca [--passphrase-file F]] [--once]",
		Summary: "serve a virtual JPKI card into pcscd through vpcd until interrupted (demo CA, or the trial CA with --trial-ca)",
		Run:     runVCard,
	})
}

func runVCard(env *Env, args []string) error {
	fs := flag.NewFlagSet("vcard", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("vpcd", "127.0.0.1:35963", "vpcd driver address (35963: Virtual PCD 00 00, 35964: 00 01)")
	profileName := fs.String("profile", "mynumber", "mynumber or phone")
	holder := fs.String("holder", "DEMO HOLDER", "holder name in the signature certificate, e.g. a monitor ID")
	authPIN := fs.String("auth-pin", "", "auth PIN, 4 digits (default: the demo PIN from the README)")
	signPIN := fs.String("sign-pin", "", "sign PIN, 6-16 of A-Z 0-9 (default: the demo PIN from the README)")
	once := fs.Bool("once", false, "exit when pcscd closes the connection instead of reconnecting")
	trialCA := fs.Bool("trial-ca", false, "issue the card's certificates from the store's trial CA (asks its passphrase), so the gate and bank of this trial accept it")
	passFile := fs.String("passphrase-file", "", "with --trial-ca: file whose first line is the CA passphrase")
	if err := fs.Parse(args); err != nil {
		return Usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q", fs.Arg(0))
	}
	profile, err := vcard.ParseProfile(*profileName)
	if err != nil {
		return Usagef("--profile %q: want mynumber or phone", *profileName)
	}
	if _, port, err := net.SplitHostPort(*addr); err != nil || port == "" {
		return Usagef("--vpcd %q: want host:port, e.g. 127.0.0.1:35963", *addr)
	}
	if *holder == "" {
		return Usagef("--holder is empty")
	}
	if *authPIN != "" && !vcard.ValidAuthPIN([]byte(*authPIN)) {
		return Usagef("--auth-pin must be exactly 4 digits")
	}
	if *signPIN != "" && !vcard.ValidSignPIN([]byte(*signPIN)) {
		return Usagef("--sign-pin must be 6 to 16 of A-Z and 0-9")
	}

	if *passFile != "" && !*trialCA {
		return Usagef("--passphrase-file goes with --trial-ca")
	}
	issuer := "the demo CA (in memory, trusted by nothing else)"
	var cfg vcard.Config
	if *trialCA {
		var end func()
		if cfg, end, err = trialVirtualCard(env, *passFile, profile, *holder); err != nil {
			return err
		}
		defer end()
		issuer = "the trial CA"
	} else if cfg, err = vcard.NewDemo(profile, *holder); err != nil {
		return err
	}
	pins := "the demo defaults (see the README)"
	if *authPIN != "" || *signPIN != "" {
		pins = "as given on the command line"
	}
	if *authPIN != "" {
		cfg.AuthPIN = *authPIN
	}
	if *signPIN != "" {
		cfg.SignPIN = *signPIN
	}
	card, err := vcard.New(cfg)
	if err != nil {
		return err
	}
	authCert, err := x509.ParseCertificate(cfg.AuthCert)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "virtual card: %s profile, holder %q\n", profile, *holder)
	fmt.Fprintf(env.Stdout, "auth certificate serial: %X, from %s\n", authCert.SerialNumber, issuer)
	fmt.Fprintf(env.Stdout, "PINs: %s\n", pins)
	fmt.Fprintf(env.Stdout, "serving into vpcd at %s%s; stop with Ctrl-C\n", *addr, readerHint(*addr))

	b := &vpcd.Bridge{
		Addr:      *addr,
		Card:      card,
		Reconnect: !*once,
		Logf:      func(format string, a ...any) { fmt.Fprintf(env.Stderr, format+"\n", a...) },
	}
	err = b.Serve(env.Ctx)
	if errors.Is(err, vpcd.ErrPeerClosed) {
		return errors.New("pcscd closed the connection (card removed)")
	}
	if err != nil {
		return fmt.Errorf("vpcd at %s: %w (is pcscd running with the vpcd driver?)", *addr, err)
	}
	return nil
}

// trialVirtualCard issues a virtual card's keys and certificates from the
// store's trial CA (audited under the logged-in account, like the GUI's
// virtual cards) with a young auth CRL (pki.CA.ServeVirtualCard), so a gate
// of the trial admits the card and its revocation reaches it. The command
// is one run of virtual cards: it keeps the store open to beat while it
// serves, and end records that it stopped, so the next virtual card served
// on the store revokes this one's certificates (their key dies with it).
func trialVirtualCard(env *Env, passFile string, p vcard.Profile, holder string) (cfg vcard.Config, end func(), err error) {
	db, err := store.Open(env.Ctx, env.DSN)
	if err != nil {
		return vcard.Config{}, nil, err
	}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	ca, err := unlockCA(env, db, passFile)
	if errors.Is(err, pki.ErrNotInitialized) {
		return vcard.Config{}, nil, errors.New("--trial-ca: this store has no trial CA yet (a coordinator runs `jpkipilot ca init`)")
	} else if err != nil {
		return vcard.Config{}, nil, err
	}
	if cfg, err = ca.ServeVirtualCard(env.Ctx, p, holder); err != nil {
		return vcard.Config{}, nil, err
	}
	beatCtx, stop := context.WithCancel(env.Ctx)
	beating := make(chan struct{})
	go func() { ca.KeepVirtualRun(beatCtx); close(beating) }()
	return cfg, func() {
		stop()
		<-beating
		if err := ca.EndVirtualRun(context.WithoutCancel(env.Ctx)); err != nil {
			fmt.Fprintf(env.Stderr, "%v; its certificates are revoked once it has been idle for %v\n", err, pki.VirtualRunIdle)
		}
		db.Close()
	}, nil
}

// readerHint names the reader the default vpcd ports appear as.
func readerHint(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	if n, err := strconv.Atoi(p); err == nil && (n == 35963 || n == 35964) {
		return fmt.Sprintf(" (reader \"Virtual PCD 00 %02d\")", n-35963)
	}
	return ""
}
