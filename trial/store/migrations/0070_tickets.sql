-- The ticketless-service demo (seed §3.1): events, tickets bound to a JPKI
-- user-authentication certificate (issuer + serial, no personal data),
-- transfers to companions and every gate decision with its timings.

CREATE TABLE ticket_events (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	venue TEXT NOT NULL,
	starts_at {{time}} NOT NULL,
	price_yen {{int64}} NOT NULL CHECK (price_yen >= 0)
);

-- A ticket is one certificate's seat at one event. entered_at is set once,
-- by a conditional UPDATE (WHERE entered_at IS NULL), so two gates on one
-- PostgreSQL never admit the same ticket twice. Only the last four digits
-- of the payment card are kept.
CREATE TABLE tickets (
	id {{pk}},
	event_id TEXT NOT NULL REFERENCES ticket_events(id),
	cert_issuer TEXT NOT NULL,
	cert_serial TEXT NOT NULL,
	applied_at {{time}} NOT NULL,
	applied_with TEXT NOT NULL CHECK (applied_with IN ('card', 'phone')),
	paid_at {{time}},
	card_last4 TEXT NOT NULL DEFAULT '',
	receipt TEXT NOT NULL DEFAULT '',
	entered_at {{time}},
	entered_gate TEXT NOT NULL DEFAULT '',
	UNIQUE (event_id, cert_issuer, cert_serial)
);
CREATE INDEX tickets_cert ON tickets(cert_serial, cert_issuer);

CREATE TABLE ticket_transfers (
	id {{pk}},
	ticket_id {{int64}} NOT NULL REFERENCES tickets(id),
	at {{time}} NOT NULL,
	from_issuer TEXT NOT NULL,
	from_serial TEXT NOT NULL,
	to_issuer TEXT NOT NULL,
	to_serial TEXT NOT NULL
);

-- Every gate decision, admitted or not. detected_at is when the card was
-- seen; decision_us is detected → decision; apdus is what the card was sent.
CREATE TABLE gate_decisions (
	id {{pk}},
	event_id TEXT NOT NULL,
	gate TEXT NOT NULL,
	detected_at {{time}} NOT NULL,
	method TEXT NOT NULL,
	admitted {{bool}} NOT NULL,
	reason TEXT NOT NULL,
	ticket_id {{int64}},
	cert_serial TEXT NOT NULL DEFAULT '',
	crl_age_s {{int64}} NOT NULL DEFAULT 0,
	decision_us {{int64}} NOT NULL,
	apdus {{int64}} NOT NULL
);
CREATE INDEX gate_decisions_event ON gate_decisions(event_id, detected_at);
