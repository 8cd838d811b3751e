package pki

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"golang.org/x/crypto/ocsp"

	"jpkipilot/trial/store"
	"jpkipilot/trial/store/storetest"
)

func TestOCSPRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ca := newCA(t, db)
		good := issue(t, ca, RoleAuth, "M1", "")
		bad := issue(t, ca, RoleSign, "M2", "佐藤次郎")
		if err := ca.Revoke(ctx, bad.Serial, CessationOfOperation); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(&Responder{CA: ca})
		defer srv.Close()

		resp, err := QueryOCSP(ctx, srv.Client(), srv.URL, good.Cert, ca.Certificate(RoleAuth))
		if err != nil || resp.Status != ocsp.Good {
			t.Fatalf("good cert: %v %+v", err, resp)
		}
		resp, err = QueryOCSP(ctx, srv.Client(), srv.URL, bad.Cert, ca.Certificate(RoleSign))
		if err != nil || resp.Status != ocsp.Revoked || resp.RevocationReason != int(CessationOfOperation) {
			t.Fatalf("revoked cert: %v %+v", err, resp)
		}

		// GET: base64 of the request in the path (RFC 6960 A.1).
		req, _ := ocsp.CreateRequest(good.Cert, ca.Certificate(RoleAuth), &ocsp.RequestOptions{Hash: crypto.SHA1})
		hr, err := srv.Client().Get(srv.URL + "/" + url.PathEscape(base64.StdEncoding.EncodeToString(req)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(hr.Body)
		hr.Body.Close()
		if r, err := ocsp.ParseResponseForCert(body, good.Cert, ca.Certificate(RoleAuth)); err != nil || r.Status != ocsp.Good {
			t.Fatalf("GET: %v %+v", err, r)
		}

		// A serial the CA never issued is unknown.
		forged := *good.Cert
		forged.SerialNumber = big.NewInt(99)
		if r, err := QueryOCSP(ctx, srv.Client(), srv.URL, &forged, ca.Certificate(RoleAuth)); err != nil || r.Status != ocsp.Unknown {
			t.Fatalf("unknown serial: %v %+v", err, r)
		}

		// Through Verify.
		opts := trust(t, ca, db)
		opts.OCSP = OCSPClient(srv.URL, srv.Client())
		opts.Purpose = PurposeAuth
		if _, err := Verify(good.Cert, opts); err != nil {
			t.Errorf("Verify good via OCSP: %v", err)
		}
		opts.Purpose = PurposeSign
		var f *Failure
		if _, err := Verify(bad.Cert, opts); !errors.As(err, &f) || f.Reason != Revoked || f.RevocationReason != CessationOfOperation {
			t.Errorf("Verify revoked via OCSP: %v", err)
		}
	})
}

func TestOCSPResponderRejects(t *testing.T) {
	db := storetest.SQLite(t)
	ca := newCA(t, db)
	foreign := newCA(t, storetest.SQLite(t))
	leaf := issue(t, foreign, RoleAuth, "X", "")
	srv := httptest.NewServer(&Responder{CA: ca})
	defer srv.Close()

	post := func(body []byte) []byte {
		r, err := srv.Client().Post(srv.URL, "application/ocsp-request", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return b
	}
	if b := post([]byte("garbage")); !bytes.Equal(b, ocsp.MalformedRequestErrorResponse) {
		t.Errorf("garbage request answered % x", b)
	}
	req, _ := ocsp.CreateRequest(leaf.Cert, foreign.Certificate(RoleAuth), nil)
	if b := post(req); !bytes.Equal(b, ocsp.UnauthorizedErrorResponse) {
		t.Errorf("request for a foreign CA answered % x", b)
	}
	put, _ := http.NewRequest(http.MethodPut, srv.URL, nil)
	r, err := srv.Client().Do(put)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %s", r.Status)
	}
	locked, _ := Open(context.Background(), db)
	lsrv := httptest.NewServer(&Responder{CA: locked})
	defer lsrv.Close()
	mine := issue(t, ca, RoleAuth, "M", "")
	if _, err := QueryOCSP(context.Background(), lsrv.Client(), lsrv.URL, mine.Cert, ca.Certificate(RoleAuth)); err == nil {
		t.Error("a locked CA answered OCSP")
	}
}
