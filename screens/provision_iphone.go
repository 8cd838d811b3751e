package screens

import (
	"context"
	"encoding/pem"
	"io"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"

	"jpkipilot/pki"
	"jpkipilot/pki/jpki"
	"jpkipilot/trial/provision"
)

// pickCSR is the iOS path: staff open the PKCS#10 request the iPhone made
// (a file), the monitor of the picked loan proves their identity with the
// My Number card, the trial CA issues the certificate and staff save it
// for the phone.
func (s *provisionScreen) pickCSR() {
	l, conn, pass, ok := s.inputs()
	if !ok || s.running {
		return
	}
	d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil || rc == nil {
			ShowError(s.w, err)
			return
		}
		s.busy(true)
		Run(context.Background(), func(context.Context) ([]byte, error) {
			defer rc.Close()
			return io.ReadAll(io.LimitReader(rc, 64<<10))
		}, func(csr []byte, err error) {
			s.busy(false)
			if err != nil {
				ShowError(s.w, err)
				return
			}
			s.issueIOS(l.MonitorID, csr, pass, conn, s.saveCert)
		})
	}, s.w)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".csr", ".pem", ".der", ".p10"}))
	d.Show()
}

// issueIOS proves the monitor's identity with their card and issues the
// certificate for csr; save gets it as PEM on the UI goroutine.
func (s *provisionScreen) issueIOS(monitor string, csr, pass []byte, conn *connector, save func(name string, pemCert []byte)) {
	if _, err := provision.ParseCSR(csr); err != nil {
		s.iosText.SetText(lang.L("provision.ios_failed", map[string]any{"Why": err.Error()}))
		return
	}
	ctx := s.busy(true)
	pad := pinPadFunc(s.w, s.padShown)
	Run(ctx, func(ctx context.Context) (*pki.Issued, error) {
		defer conn.closeAll()
		card, err := conn.connect(ctx, provision.HoldMyNumberCard)
		if err != nil {
			return nil, err
		}
		pin := func(ctx context.Context, r jpki.PINRequest) (string, error) {
			r.Purpose = lang.L("provision.pin_card")
			return pad(ctx, r)
		}
		if _, err := s.deps.Desk.ProveIdentity(ctx, monitor, s.deps.Staff, card, pin); err != nil {
			return nil, err
		}
		return s.deps.Desk.IssueIOS(ctx, provision.IOSRequest{MonitorID: monitor, Staff: s.deps.Staff, CSR: csr, Passphrase: pass})
	}, func(iss *pki.Issued, err error) {
		s.busy(false)
		if err != nil {
			s.iosText.SetText(lang.L("provision.ios_failed", map[string]any{"Why": provisionErrorText(err)}))
			return
		}
		serial := pki.SerialHex(iss.Serial)
		s.guide.SetText(lang.L("provision.guide_card_done"))
		s.iosText.SetText(lang.L("provision.ios_issued", map[string]any{"Serial": serial, "Monitor": monitor}))
		save(monitor+"-"+serial+".pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: iss.Cert.Raw}))
	})
}

// saveCert asks where to write the certificate for the iPhone.
func (s *provisionScreen) saveCert(name string, data []byte) {
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil || wc == nil {
			ShowError(s.w, err)
			return
		}
		Run(context.Background(), func(context.Context) (struct{}, error) {
			_, err := wc.Write(data)
			if cerr := wc.Close(); err == nil {
				err = cerr
			}
			return struct{}{}, err
		}, func(_ struct{}, err error) { ShowError(s.w, err) })
	}, s.w)
	d.SetFileName(name)
	d.Show()
}
