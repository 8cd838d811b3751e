package pki

import (
	"fmt"
	"strings"
)

// RevocationReason is a CRLReason of RFC 5280 §5.3.1.
type RevocationReason int

const (
	Unspecified          RevocationReason = 0
	KeyCompromise        RevocationReason = 1
	CACompromise         RevocationReason = 2
	AffiliationChanged   RevocationReason = 3
	Superseded           RevocationReason = 4
	CessationOfOperation RevocationReason = 5
	CertificateHold      RevocationReason = 6
	RemoveFromCRL        RevocationReason = 8
	PrivilegeWithdrawn   RevocationReason = 9
	AACompromise         RevocationReason = 10
)

var reasonNames = map[RevocationReason]string{
	Unspecified:          "unspecified",
	KeyCompromise:        "keyCompromise",
	CACompromise:         "cACompromise",
	AffiliationChanged:   "affiliationChanged",
	Superseded:           "superseded",
	CessationOfOperation: "cessationOfOperation",
	CertificateHold:      "certificateHold",
	RemoveFromCRL:        "removeFromCRL",
	PrivilegeWithdrawn:   "privilegeWithdrawn",
	AACompromise:         "aACompromise",
}

func (r RevocationReason) String() string {
	if s, ok := reasonNames[r]; ok {
		return s
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

// ParseRevocationReason accepts the RFC 5280 names (case-insensitive), as
// `ca revoke --reason` spells them.
func ParseRevocationReason(s string) (RevocationReason, error) {
	for r, n := range reasonNames {
		if strings.EqualFold(n, s) {
			return r, nil
		}
	}
	names := make([]string, 0, len(reasonNames))
	for r := range 11 {
		if n, ok := reasonNames[RevocationReason(r)]; ok {
			names = append(names, n)
		}
	}
	return 0, fmt.Errorf("unknown revocation reason %q (one of %s)", s, strings.Join(names, ", "))
}
