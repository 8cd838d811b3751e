package pki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/store"
)

// Responder answers OCSP requests (RFC 6960, GET and POST) for the trial's
// two issuing CAs from the store. Each CA signs its own responses, so
// clients need no delegated responder certificate. The CA must be unlocked.
type Responder struct {
	CA *CA
	// Validity is how long a response may be cached (nextUpdate); zero: 1 hour.
	Validity time.Duration
}

const maxOCSPRequest = 10 << 10

func (r *Responder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var raw []byte
	switch req.Method {
	case http.MethodPost:
		b, err := io.ReadAll(io.LimitReader(req.Body, maxOCSPRequest+1))
		if err != nil || len(b) > maxOCSPRequest {
			writeOCSP(w, ocsp.MalformedRequestErrorResponse)
			return
		}
		raw = b
	case http.MethodGet:
		// RFC 6960 A.1: the base64 request is the last path segment, URL-escaped.
		p := req.URL.EscapedPath()
		seg, err := url.PathUnescape(p[strings.LastIndexByte(p, '/')+1:])
		if err != nil {
			writeOCSP(w, ocsp.MalformedRequestErrorResponse)
			return
		}
		if raw, err = base64.StdEncoding.DecodeString(seg); err != nil {
			writeOCSP(w, ocsp.MalformedRequestErrorResponse)
			return
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "OCSP takes GET or POST", http.StatusMethodNotAllowed)
		return
	}
	resp, _ := r.Respond(req.Context(), raw) // an error still has its OCSP answer
	writeOCSP(w, resp)
}

func writeOCSP(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(b)
}

// Respond answers one DER OCSP request. On error it still returns the
// (unsigned) OCSP error response to send.
func (r *Responder) Respond(ctx context.Context, raw []byte) ([]byte, error) {
	req, err := ocsp.ParseRequest(raw)
	if err != nil {
		return ocsp.MalformedRequestErrorResponse, fmt.Errorf("OCSP request: %w", err)
	}
	role, ok := r.issuerOf(req)
	if !ok {
		return ocsp.UnauthorizedErrorResponse, errors.New("OCSP request for a CA this responder does not serve")
	}
	key, err := r.CA.signer(role)
	if err != nil {
		return ocsp.InternalErrorErrorResponse, err
	}
	now := r.CA.now().Truncate(time.Second)
	validity := r.Validity
	if validity <= 0 {
		validity = time.Hour
	}
	tmpl := ocsp.Response{SerialNumber: req.SerialNumber, ThisUpdate: now, NextUpdate: now.Add(validity), Status: ocsp.Good}
	rec, err := r.CA.Lookup(ctx, role, req.SerialNumber)
	switch {
	case errors.Is(err, store.ErrNotFound):
		tmpl.Status = ocsp.Unknown
	case err != nil:
		return ocsp.TryLaterErrorResponse, err
	case rec.Revoked():
		tmpl.Status = ocsp.Revoked
		tmpl.RevokedAt = rec.RevokedAt
		tmpl.RevocationReason = int(rec.RevocationReason)
	}
	issuer := r.CA.certs[role]
	b, err := ocsp.CreateResponse(issuer, issuer, tmpl, key)
	if err != nil {
		return ocsp.InternalErrorErrorResponse, err
	}
	// Every signature by a CA key is in the trail; a response whose use
	// cannot be recorded is not sent.
	status := map[int]string{ocsp.Good: "good", ocsp.Revoked: "revoked", ocsp.Unknown: "unknown"}[tmpl.Status]
	if err := audit.RecordNow(audit.Default(ctx, r.CA.Actor), r.CA.db, audit.CAKeyUse, string(role),
		fmt.Sprintf("signed OCSP response for %s: %s", SerialHex(req.SerialNumber), status)); err != nil {
		return ocsp.TryLaterErrorResponse, err
	}
	return b, nil
}

func (r *Responder) issuerOf(req *ocsp.Request) (Role, bool) {
	if !req.HashAlgorithm.Available() {
		return "", false
	}
	for _, role := range []Role{RoleAuth, RoleSign} {
		c := r.CA.certs[role]
		name, key, err := issuerHashes(c, req.HashAlgorithm)
		if err == nil && bytes.Equal(name, req.IssuerNameHash) && bytes.Equal(key, req.IssuerKeyHash) {
			return role, true
		}
	}
	return "", false
}

// issuerHashes are RFC 6960 CertID's issuerNameHash and issuerKeyHash.
func issuerHashes(c *x509.Certificate, h crypto.Hash) (name, key []byte, err error) {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, nil, err
	}
	hn := h.New()
	hn.Write(c.RawSubject)
	hk := h.New()
	hk.Write(spki.PublicKey.RightAlign())
	return hn.Sum(nil), hk.Sum(nil), nil
}

// OCSPChecker asks about cert's status; Options.OCSP uses one.
type OCSPChecker func(ctx context.Context, cert, issuer *x509.Certificate) (*ocsp.Response, error)

// OCSPClient returns a checker that POSTs to url (or, when url is empty, to
// the certificate's first AIA OCSP URL) with client (nil: a 10 s timeout).
func OCSPClient(url string, client *http.Client) OCSPChecker {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return func(ctx context.Context, cert, issuer *x509.Certificate) (*ocsp.Response, error) {
		u := url
		if u == "" {
			if len(cert.OCSPServer) == 0 {
				return nil, errors.New("the certificate names no OCSP responder")
			}
			u = cert.OCSPServer[0]
		}
		return QueryOCSP(ctx, client, u, cert, issuer)
	}
}

// QueryOCSP asks the responder at url about cert and checks the answer's
// signature (by issuer or a responder it delegated to) and serial.
func QueryOCSP(ctx context.Context, client *http.Client, url string, cert, issuer *x509.Certificate) (*ocsp.Response, error) {
	reqDER, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: crypto.SHA256})
	if err != nil {
		return nil, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(reqDER))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/ocsp-request")
	hreq.Header.Set("Accept", "application/ocsp-response")
	hresp, err := client.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("OCSP %s: %w", url, err)
	}
	defer hresp.Body.Close()
	if hresp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("OCSP %s: HTTP %s", url, hresp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(hresp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("OCSP %s: %w", url, err)
	}
	resp, err := ocsp.ParseResponseForCert(body, cert, issuer)
	if err != nil {
		return nil, fmt.Errorf("OCSP %s: %w", url, err)
	}
	return resp, nil
}
