package bank

import (
	"context"
	"errors"
	"fmt"

	"jpkipilot/device"
	"jpkipilot/pki"
	"jpkipilot/pki/jpki"
)

// Reason is why an attempt failed ("ok" when it did not). It is a stable
// identifier: the store keeps it and the UI translates it.
type Reason string

const (
	ReasonOK              Reason = "ok"
	ReasonWrongPIN        Reason = "wrong_pin"          // see Error.TriesLeft
	ReasonPINBlocked      Reason = "pin_blocked"        // nothing was sent to the card
	ReasonStaleChallenge  Reason = "stale_challenge"    // the challenge expired
	ReasonReplayed        Reason = "replayed_challenge" // the challenge was already used (or is unknown)
	ReasonBadSignature    Reason = "bad_signature"      // the signature does not verify with the certificate
	ReasonNotRegistered   Reason = "not_registered"     // the certificate is registered with no account
	ReasonOtherAccount    Reason = "other_account"      // the certificate belongs to another monitor's account
	ReasonRevoked         Reason = "revoked"            // the certificate is revoked
	ReasonCertInvalid     Reason = "cert_invalid"       // chain, validity, key usage or revocation check failed
	ReasonCardRemoved     Reason = "card_removed"
	ReasonCancelled       Reason = "cancelled"
	ReasonNotJPKI         Reason = "not_jpki" // the reader holds no JPKI card or phone
	ReasonNoAccount       Reason = "no_account"
	ReasonTOTPNotEnrolled Reason = "totp_not_enrolled"
	ReasonTOTPInvalid     Reason = "totp_invalid"
	ReasonTOTPReused      Reason = "totp_reused"
	ReasonError           Reason = "error" // anything else (reader, store)
)

// Reasons lists every reason (the UI has a translation for each).
var Reasons = []Reason{ReasonOK, ReasonWrongPIN, ReasonPINBlocked, ReasonStaleChallenge, ReasonReplayed,
	ReasonBadSignature, ReasonNotRegistered, ReasonOtherAccount, ReasonRevoked, ReasonCertInvalid,
	ReasonCardRemoved, ReasonCancelled, ReasonNotJPKI, ReasonNoAccount, ReasonTOTPNotEnrolled,
	ReasonTOTPInvalid, ReasonTOTPReused, ReasonError}

// Error is a refused registration or login.
type Error struct {
	Reason    Reason
	TriesLeft int // for ReasonWrongPIN
	Err       error
}

func (e *Error) Error() string {
	msg := string(e.Reason)
	if e.Reason == ReasonWrongPIN {
		msg = fmt.Sprintf("wrong PIN (%d tries left)", e.TriesLeft)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

func refuse(r Reason, err error) *Error { return &Error{Reason: r, Err: err} }

// ReasonOf classifies err: ReasonOK for nil, the Error's reason, or the
// reason of a card or certificate error.
func ReasonOf(err error) Reason {
	return classify(err).Reason
}

// classify turns any error of a flow into an *Error (nil stays nil).
func classify(err error) *Error {
	if err == nil {
		return &Error{Reason: ReasonOK}
	}
	var be *Error
	if errors.As(err, &be) {
		return be
	}
	var wrong *device.WrongPINError
	switch {
	case errors.As(err, &wrong) && wrong.TriesLeft > 0:
		return &Error{Reason: ReasonWrongPIN, TriesLeft: wrong.TriesLeft, Err: err}
	case errors.Is(err, device.ErrBlocked):
		return refuse(ReasonPINBlocked, err)
	case errors.Is(err, device.ErrCardRemoved), errors.Is(err, device.ErrNoCard):
		return refuse(ReasonCardRemoved, err)
	case errors.Is(err, jpki.ErrPINCancelled), errors.Is(err, context.Canceled):
		return refuse(ReasonCancelled, err)
	case errors.Is(err, jpki.ErrNotJPKI):
		return refuse(ReasonNotJPKI, err)
	case errors.Is(err, ErrNoAccount):
		return refuse(ReasonNoAccount, err)
	case pki.ReasonOf(err) == pki.Revoked:
		return refuse(ReasonRevoked, err)
	case pki.ReasonOf(err) != 0:
		return refuse(ReasonCertInvalid, err)
	}
	return refuse(ReasonError, err)
}
