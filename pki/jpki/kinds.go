package jpki

import "fmt"

// Kind names one of the two JPKI key pairs together with the PIN that
// guards it: the user-authentication key (4-digit PIN, 3 tries) and the
// signature key (6–16 character PIN, 5 tries).
type Kind int

const (
	Auth Kind = iota + 1
	Sign
)

func (k Kind) String() string {
	switch k {
	case Auth:
		return "auth"
	case Sign:
		return "sign"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ParseKind accepts "auth" or "sign", as the command line spells them.
func ParseKind(s string) (Kind, error) {
	switch s {
	case "auth":
		return Auth, nil
	case "sign":
		return Sign, nil
	}
	return 0, fmt.Errorf("jpki: unknown key %q (want auth or sign)", s)
}

// MaxTries is the retry counter the card starts with for the PIN.
func (k Kind) MaxTries() int {
	if k == Sign {
		return 5
	}
	return 3
}

// pinEF and keyEF are the elementary files of the PIN and the private key.
func (k Kind) pinEF() uint16 {
	if k == Sign {
		return efSignPIN
	}
	return efAuthPIN
}

func (k Kind) keyEF() uint16 {
	if k == Sign {
		return efSignKey
	}
	return efAuthKey
}

func (k Kind) valid() bool { return k == Auth || k == Sign }

// CertKind names one of the four certificates the JPKI application holds.
type CertKind int

const (
	CertAuth   CertKind = iota + 1 // user-authentication certificate (EF 000A)
	CertAuthCA                     // its issuing CA certificate (EF 000B)
	CertSign                       // signature certificate (EF 0001), behind the sign PIN
	CertSignCA                     // its issuing CA certificate (EF 0002)
)

// CertKinds lists every certificate in the order the command line shows them.
var CertKinds = []CertKind{CertAuth, CertAuthCA, CertSign, CertSignCA}

func (k CertKind) String() string {
	switch k {
	case CertAuth:
		return "auth"
	case CertAuthCA:
		return "authca"
	case CertSign:
		return "sign"
	case CertSignCA:
		return "signca"
	}
	return fmt.Sprintf("CertKind(%d)", int(k))
}

// ParseCertKind accepts auth, authca, sign or signca.
func ParseCertKind(s string) (CertKind, error) {
	for _, k := range CertKinds {
		if k.String() == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("jpki: unknown certificate %q (want auth, authca, sign or signca)", s)
}

func (k CertKind) ef() uint16 {
	switch k {
	case CertAuth:
		return efAuthCert
	case CertAuthCA:
		return efAuthCACert
	case CertSign:
		return efSignCert
	case CertSignCA:
		return efSignCACert
	}
	return 0
}

// TokenKind is what a reader holds, as far as JPKI is concerned.
type TokenKind int

const (
	NotJPKI      TokenKind = iota // no JPKI application (SELECT AP answered 6A82)
	MyNumberCard                  // token info JPKIAPICCTOKEN2
	PhoneToken                    // token info JPKIAPGPSETOKEN: the applet on a phone's SIM
)

func (k TokenKind) String() string {
	switch k {
	case NotJPKI:
		return "not JPKI"
	case MyNumberCard:
		return "My Number card"
	case PhoneToken:
		return "JPKI phone token"
	}
	return fmt.Sprintf("TokenKind(%d)", int(k))
}
