package trial

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"jpkipilot/trial/audit"
	"jpkipilot/trial/pii"
	"jpkipilot/trial/store"
)

// Loans is the lending desk: the phone and SIM inventory and the loans of
// bundles (phone + SIM + charger and accessories) to monitors. The lending
// rules — a device is out on one loan at a time, a monitor holds one loan,
// a withdrawn monitor borrows nothing — hold in the database itself, so
// two laptops on one PostgreSQL cannot lend the same phone twice.
type Loans struct {
	DB *store.DB
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Zone is where the desk is: it decides what "today" is for due dates
	// and days overdue. Japan (UTC+9, no summer time) by default.
	Zone *time.Location
	// PII is the logged-in account's data key, to open the monitor's name
	// and contact on a loan; nil: they come back empty (MonitorSealed).
	PII *pii.Key
	// Actor is who acts when the context names no one (audit.Default).
	Actor string
}

// JST is Japan Standard Time.
var JST = time.FixedZone("JST", 9*60*60)

// NewLoans returns the lending desk on db with the wall clock, in Japan.
func NewLoans(db *store.DB) *Loans {
	return &Loans{DB: db, Now: func() time.Time { return time.Now().UTC() }, Zone: JST}
}

func (l *Loans) now() time.Time { return l.Now().UTC().Truncate(time.Microsecond) }

// today is the desk's calendar date.
func (l *Loans) today() time.Time {
	zone := l.Zone
	if zone == nil {
		zone = JST
	}
	y, m, d := l.Now().In(zone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Lending errors; test with errors.Is.
var (
	ErrOnLoan            = errors.New("already on loan")
	ErrMonitorHasLoan    = errors.New("the monitor already has a loan open: check it in first")
	ErrMonitorWithdrawn  = errors.New("the monitor has withdrawn from the trial and cannot borrow")
	ErrLoanClosed        = errors.New("the loan was already checked in")
	ErrWrongKindOfDevice = errors.New("wrong kind of device")
)

// LendingError is a refused check-out that names what it is about: a
// device (Kind is its kind, Serial its serial; for ErrWrongKindOfDevice
// Found is the kind it really is) or the monitor (Kind empty, Serial the
// monitor id). Err is one of the Err* values above; errors.Is sees it.
type LendingError struct {
	Kind   DeviceKind
	Serial string
	Found  DeviceKind
	Err    error
}

func (e *LendingError) Error() string {
	switch {
	case e.Err == ErrWrongKindOfDevice:
		return fmt.Sprintf("%s %s is a %s: %v", lendingField(e.Kind), e.Serial, e.Found, e.Err)
	case e.Kind == KindPhone:
		return fmt.Sprintf("phone %s: %v", e.Serial, e.Err)
	case e.Kind == KindSIM:
		return fmt.Sprintf("SIM %s: %v", e.Serial, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Serial, e.Err)
}

func (e *LendingError) Unwrap() error { return e.Err }

// lendingField is the check-out field a device kind is given in.
func lendingField(kind DeviceKind) string {
	return map[DeviceKind]string{KindPhone: "phone", KindSIM: "sim"}[kind]
}

// Loan is one lending of a bundle to a monitor.
type Loan struct {
	ID          int64
	MonitorID   string
	PhoneID     int64
	SIMID       int64
	Phone       string // IMEI
	SIM         string // ICCID
	Charger     bool
	Accessories []string
	OutAt       time.Time
	OutStaff    string
	DueOn       string // YYYY-MM-DD, the last day the monitor keeps it
	InAt        *time.Time
	InStaff     string
	Notes       string   // condition noted at check-in
	Missing     []string // items not returned
	// MonitorName and MonitorContact are for reminders; empty once the
	// monitor has withdrawn (personal data erased), and empty with
	// MonitorSealed set when read without the data key.
	MonitorName    string
	MonitorContact string
	MonitorSealed  bool
	// DaysOverdue is how many days past DueOn an open loan is, as of the
	// desk's today; 0 when not overdue or returned.
	DaysOverdue int
}

// Open reports whether the loan is not checked in.
func (ln Loan) Open() bool { return ln.InAt == nil }

// FormatLoanID is how a loan is shown and typed: L-0001.
func FormatLoanID(id int64) string { return fmt.Sprintf("L-%04d", id) }

// ParseLoanID reads "L-0012", "l-12", "Ｌ－１２" or "12".
func ParseLoanID(s string) (int64, bool) {
	s = strings.ToUpper(strings.TrimSpace(fold(s)))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "L"), "-")
	if s == "" || len(s) > 12 || !allDigits(s) {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// LoanEvent is one line of a loan's history.
type LoanEvent struct {
	ID        int64     `db:"id"`
	LoanID    int64     `db:"loan_id"`
	At        time.Time `db:"at"`
	Kind      string    `db:"kind"` // checkout, extend, checkin
	Staff     string    `db:"staff"`
	DueBefore string    `db:"due_before"`
	DueAfter  string    `db:"due_after"`
	Detail    string    `db:"detail"`
}

// Checkout is a request to lend a bundle.
type Checkout struct {
	MonitorID   string
	Phone       string // IMEI
	SIM         string // ICCID
	Charger     bool
	Accessories []string
	Staff       string
	// DueOn is the last day of the loan (YYYY-MM-DD); empty means the
	// check-out day plus the monitor's trial's loan days.
	DueOn string
}

// Return is what staff record at check-in.
type Return struct {
	Staff   string
	Notes   string   // condition of what came back
	Missing []string // items that did not
}

func checkStaff(es *FieldErrors, staff string) {
	switch {
	case staff == "":
		es.add("staff", ReasonStaffRequired, "required: who is at the desk")
	case utf8.RuneCountInString(staff) > maxName:
		es.add("staff", ReasonTooLong, "longer than %d characters", maxName)
	}
}

// Checkout lends a phone and a SIM to a monitor. In one transaction it
// checks that the monitor exists and has not withdrawn (the monitor row is
// locked on PostgreSQL, so a withdrawal at another laptop waits), that the
// phone is a phone and the SIM a SIM, and inserts the loan; the partial
// UNIQUE indexes on open loans refuse a device or monitor already out, even
// when two laptops try at the same instant.
func (l *Loans) Checkout(ctx context.Context, c Checkout) (Loan, error) {
	var es FieldErrors
	c.Staff = collapseSpaces(c.Staff)
	c.Phone, c.SIM = NormalizeSerial(c.Phone), NormalizeSerial(c.SIM)
	c.Accessories = splitItems(strings.Join(c.Accessories, ","))
	n, ok := ParseMonitorID(c.MonitorID)
	if !ok {
		es.add("monitor", ReasonMonitorID, "not a monitor id like M-0001: %q", c.MonitorID)
	}
	c.MonitorID = FormatMonitorID(n)
	if r := checkIMEI(c.Phone); r != nil {
		es = append(es, r.on("phone"))
	}
	if r := checkICCID(c.SIM); r != nil {
		es = append(es, r.on("sim"))
	}
	checkStaff(&es, c.Staff)
	today := l.today()
	if c.DueOn != "" {
		if d, ok := parseDate(c.DueOn, false); ok {
			c.DueOn = d
			if d < today.Format("2006-01-02") {
				es.add("due", ReasonDuePast, "%s is before today (%s)", d, today.Format("2006-01-02"))
			}
		} else {
			es.add("due", ReasonDate, "not a date (YYYY-MM-DD): %q", c.DueOn)
		}
	}
	if utf8.RuneCountInString(joinItems(c.Accessories)) > maxText {
		es.add("accessories", ReasonTooLong, "longer than %d characters", maxText)
	}
	if err := es.err(); err != nil {
		return Loan{}, err
	}
	ln := Loan{MonitorID: c.MonitorID, Phone: c.Phone, SIM: c.SIM, Charger: c.Charger, Accessories: c.Accessories,
		OutAt: l.now(), OutStaff: c.Staff, DueOn: c.DueOn}
	ctx = audit.Default(ctx, l.Actor)
	err := l.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		lock := ""
		if l.DB.Dialect == store.Postgres {
			lock = " FOR UPDATE OF m"
		}
		var m struct {
			Status   Status `db:"status"`
			LoanDays int    `db:"loan_days"`
		}
		err := tx.GetContext(ctx, &m, tx.Rebind(
			"SELECT m.status, t.loan_days FROM monitors m JOIN trials t ON t.id = m.trial_id WHERE m.id = ?"+lock), c.MonitorID)
		if errors.Is(err, sql.ErrNoRows) {
			return FieldErrors{fieldErr("monitor", ReasonNoMonitor, "no monitor %s", c.MonitorID)}
		} else if err != nil {
			return err
		}
		if m.Status == StatusWithdrawn {
			return fmt.Errorf("%s: %w", c.MonitorID, ErrMonitorWithdrawn)
		}
		if ln.DueOn == "" {
			ln.DueOn = today.AddDate(0, 0, m.LoanDays).Format("2006-01-02")
		}
		if ln.PhoneID, err = deviceID(ctx, tx, KindPhone, c.Phone); err != nil {
			return err
		}
		if ln.SIMID, err = deviceID(ctx, tx, KindSIM, c.SIM); err != nil {
			return err
		}
		err = insertReturningID(ctx, tx, &ln.ID, `INSERT INTO loans (monitor_id, phone_id, sim_id, charger, accessories,
			out_at, out_staff, due_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			ln.MonitorID, ln.PhoneID, ln.SIMID, ln.Charger, joinItems(ln.Accessories), ln.OutAt, ln.OutStaff, ln.DueOn)
		if err != nil {
			return openLoanConflict(err, &c)
		}
		detail := "phone " + ln.Phone + ", SIM " + ln.SIM
		if ln.Charger {
			detail += ", charger"
		}
		if len(ln.Accessories) > 0 {
			detail += ", " + strings.Join(ln.Accessories, ", ")
		}
		if err := addEvent(ctx, tx, LoanEvent{LoanID: ln.ID, At: ln.OutAt, Kind: "checkout", Staff: ln.OutStaff, DueAfter: ln.DueOn, Detail: detail}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.LoanCheckout, FormatLoanID(ln.ID), loanDetail(ln)+", due "+ln.DueOn)
	})
	if err != nil {
		return Loan{}, fmt.Errorf("check-out: %w", err)
	}
	return ln, nil
}

// deviceID finds a device of the given kind by serial.
func deviceID(ctx context.Context, tx *sqlx.Tx, kind DeviceKind, serial string) (int64, error) {
	var r struct {
		ID   int64  `db:"id"`
		Kind string `db:"kind"`
	}
	err := tx.GetContext(ctx, &r, tx.Rebind("SELECT id, kind FROM devices WHERE serial = ?"), serial)
	field := lendingField(kind)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, FieldErrors{fieldErr(field, ReasonNotInInventory, "%s is not in the inventory", serial)}
	} else if err != nil {
		return 0, err
	}
	if DeviceKind(r.Kind) != kind {
		return 0, &LendingError{Kind: kind, Serial: serial, Found: DeviceKind(r.Kind), Err: ErrWrongKindOfDevice}
	}
	return r.ID, nil
}

// openLoanConflict names the rule a failed loan INSERT broke: the partial
// UNIQUE indexes on open loans (PostgreSQL names the index, SQLite the
// column).
func openLoanConflict(err error, c *Checkout) error {
	if !store.IsUniqueViolation(err) {
		return err
	}
	s := err.Error()
	switch {
	case strings.Contains(s, "loans_open_phone") || strings.Contains(s, "loans.phone_id"):
		return &LendingError{Kind: KindPhone, Serial: c.Phone, Err: ErrOnLoan}
	case strings.Contains(s, "loans_open_sim") || strings.Contains(s, "loans.sim_id"):
		return &LendingError{Kind: KindSIM, Serial: c.SIM, Err: ErrOnLoan}
	case strings.Contains(s, "loans_open_monitor") || strings.Contains(s, "loans.monitor_id"):
		return &LendingError{Serial: c.MonitorID, Err: ErrMonitorHasLoan}
	}
	return err
}

// loanDetail is what the audit trail says about a loan: the monitor's
// pseudonymous id and the devices' serials, never a name.
func loanDetail(ln Loan) string {
	return "monitor " + ln.MonitorID + ", phone " + ln.Phone + ", SIM " + ln.SIM
}

func addEvent(ctx context.Context, tx *sqlx.Tx, e LoanEvent) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO loan_events (loan_id, at, kind, staff, due_before, due_after, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?)`), e.LoanID, e.At, e.Kind, e.Staff, e.DueBefore, e.DueAfter, e.Detail)
	return err
}

// Extend moves an open loan's due date later; the monitor keeps the bundle
// (no new check-out) and the change is recorded, with who made it when
// staff is given.
func (l *Loans) Extend(ctx context.Context, loanID int64, due, staff string) (Loan, error) {
	var es FieldErrors
	staff = collapseSpaces(staff)
	if utf8.RuneCountInString(staff) > maxName {
		es.add("staff", ReasonTooLong, "longer than %d characters", maxName)
	}
	d, ok := parseDate(due, false)
	if !ok {
		es.add("due", ReasonDate, "not a date (YYYY-MM-DD): %q", due)
	}
	if err := es.err(); err != nil {
		return Loan{}, err
	}
	ctx = audit.Default(ctx, l.Actor)
	err := l.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		ln, err := getLoanTx(ctx, tx, l.DB.Dialect, loanID)
		if err != nil {
			return err
		}
		if !ln.Open() {
			return fmt.Errorf("%s: %w", FormatLoanID(loanID), ErrLoanClosed)
		}
		if d <= ln.DueOn {
			return FieldErrors{fieldErr("due", ReasonDueNotLater, "%s is not after the current due date %s", d, ln.DueOn)}
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE loans SET due_on = ? WHERE id = ?"), d, loanID); err != nil {
			return err
		}
		if err := addEvent(ctx, tx, LoanEvent{LoanID: loanID, At: l.now(), Kind: "extend", Staff: staff, DueBefore: ln.DueOn, DueAfter: d}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.LoanEvent, FormatLoanID(loanID), loanDetail(ln)+", extended: due "+ln.DueOn+"→"+d)
	})
	if err != nil {
		return Loan{}, fmt.Errorf("extend %s: %w", FormatLoanID(loanID), err)
	}
	return l.GetLoan(ctx, loanID)
}

// Checkin closes a loan: who took the bundle back, its condition, what is
// missing. The phone and SIM are free again.
func (l *Loans) Checkin(ctx context.Context, loanID int64, r Return) (Loan, error) {
	var es FieldErrors
	r.Staff = collapseSpaces(r.Staff)
	r.Notes = strings.TrimSpace(r.Notes)
	r.Missing = splitItems(strings.Join(r.Missing, ","))
	checkStaff(&es, r.Staff)
	if utf8.RuneCountInString(r.Notes) > maxText {
		es.add("notes", ReasonTooLong, "longer than %d characters", maxText)
	}
	if utf8.RuneCountInString(joinItems(r.Missing)) > maxText {
		es.add("missing", ReasonTooLong, "longer than %d characters", maxText)
	}
	if err := es.err(); err != nil {
		return Loan{}, err
	}
	at := l.now()
	ctx = audit.Default(ctx, l.Actor)
	err := l.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE loans SET in_at = ?, in_staff = ?, condition_notes = ?, missing = ?
			WHERE id = ? AND in_at IS NULL`), at, r.Staff, r.Notes, joinItems(r.Missing), loanID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := getLoanTx(ctx, tx, l.DB.Dialect, loanID); err != nil {
				return err
			}
			return ErrLoanClosed
		}
		detail := r.Notes
		if len(r.Missing) > 0 {
			if detail != "" {
				detail += "; "
			}
			detail += "missing: " + strings.Join(r.Missing, ", ")
		}
		if err := addEvent(ctx, tx, LoanEvent{LoanID: loanID, At: at, Kind: "checkin", Staff: r.Staff, Detail: detail}); err != nil {
			return err
		}
		ln, err := getLoanTx(ctx, tx, l.DB.Dialect, loanID)
		if err != nil {
			return err
		}
		ad := loanDetail(ln)
		if len(r.Missing) > 0 {
			ad += fmt.Sprintf(", %d items missing", len(r.Missing))
		}
		return audit.Record(ctx, tx, audit.LoanReturn, FormatLoanID(loanID), ad)
	})
	if err != nil {
		return Loan{}, fmt.Errorf("check-in %s: %w", FormatLoanID(loanID), err)
	}
	return l.GetLoan(ctx, loanID)
}

// --- reading ---------------------------------------------------------------

type loanRow struct {
	ID             int64      `db:"id"`
	MonitorID      string     `db:"monitor_id"`
	PhoneID        int64      `db:"phone_id"`
	SIMID          int64      `db:"sim_id"`
	Phone          string     `db:"phone"`
	SIM            string     `db:"sim"`
	Charger        bool       `db:"charger"`
	Accessories    string     `db:"accessories"`
	OutAt          time.Time  `db:"out_at"`
	OutStaff       string     `db:"out_staff"`
	DueOn          string     `db:"due_on"`
	InAt           *time.Time `db:"in_at"`
	InStaff        string     `db:"in_staff"`
	Notes          string     `db:"condition_notes"`
	Missing        string     `db:"missing"`
	MonitorName    string     `db:"monitor_name"`
	MonitorContact string     `db:"monitor_contact"`
}

const loanSelect = `SELECT l.id, l.monitor_id, l.phone_id, l.sim_id, p.serial AS phone, s.serial AS sim, l.charger,
	l.accessories, l.out_at, l.out_staff, l.due_on, l.in_at, l.in_staff, l.condition_notes, l.missing,
	m.name AS monitor_name, m.contact AS monitor_contact
	FROM loans l JOIN devices p ON p.id = l.phone_id JOIN devices s ON s.id = l.sim_id JOIN monitors m ON m.id = l.monitor_id`

// openLoan opens the monitor's name and contact on a loan with k (the
// monitor id is their row). Without k sealed ones come back empty and
// MonitorSealed is set.
func openLoan(k *pii.Key, ln *Loan) error {
	m := Monitor{ID: ln.MonitorID, Name: ln.MonitorName, Contact: ln.MonitorContact}
	if err := openMonitor(k, &m); err != nil {
		return fmt.Errorf("loan %s: %w", FormatLoanID(ln.ID), err)
	}
	ln.MonitorName, ln.MonitorContact, ln.MonitorSealed = m.Name, m.Contact, m.Sealed
	return nil
}

func (r loanRow) loan(today time.Time) Loan {
	ln := Loan{ID: r.ID, MonitorID: r.MonitorID, PhoneID: r.PhoneID, SIMID: r.SIMID, Phone: r.Phone, SIM: r.SIM,
		Charger: r.Charger, Accessories: parseItems(r.Accessories), OutAt: r.OutAt.UTC(), OutStaff: r.OutStaff,
		DueOn: r.DueOn, InAt: r.InAt, InStaff: r.InStaff, Notes: r.Notes, Missing: parseItems(r.Missing),
		MonitorName: r.MonitorName, MonitorContact: r.MonitorContact}
	if ln.InAt != nil {
		t := ln.InAt.UTC()
		ln.InAt = &t
	}
	if ln.Open() {
		ln.DaysOverdue = DaysOverdue(ln.DueOn, today)
	}
	return ln
}

// DaysOverdue is how many whole days today is past due (YYYY-MM-DD): 0 on
// the due day itself and before it. today is a date at 00:00 UTC.
func DaysOverdue(due string, today time.Time) int {
	d, err := time.Parse("2006-01-02", due)
	if err != nil {
		return 0
	}
	n := int(today.Sub(d).Hours() / 24)
	if n < 0 {
		return 0
	}
	return n
}

func getLoanTx(ctx context.Context, tx *sqlx.Tx, dialect store.Dialect, id int64) (Loan, error) {
	q := loanSelect + " WHERE l.id = ?"
	if dialect == store.Postgres {
		q += " FOR UPDATE OF l"
	}
	var r loanRow
	if err := tx.GetContext(ctx, &r, tx.Rebind(q), id); err != nil {
		return Loan{}, fmt.Errorf("loan %s: %w", FormatLoanID(id), store.MapErr(err))
	}
	return r.loan(time.Time{}), nil
}

// GetLoan returns one loan or an error wrapping store.ErrNotFound.
func (l *Loans) GetLoan(ctx context.Context, id int64) (Loan, error) {
	var r loanRow
	if err := l.DB.GetContext(ctx, &r, l.DB.Rebind(loanSelect+" WHERE l.id = ?"), id); err != nil {
		return Loan{}, fmt.Errorf("loan %s: %w", FormatLoanID(id), store.MapErr(err))
	}
	ln := r.loan(l.today())
	if err := openLoan(l.PII, &ln); err != nil {
		return Loan{}, err
	}
	return ln, nil
}

// LoanFilter selects loans; zero fields select every loan.
type LoanFilter struct {
	Open      bool   // only loans not checked in
	Overdue   bool   // only open loans past their due date
	MonitorID string // one monitor's loans (history)
	Device    string // one phone's or SIM's loans, by IMEI or ICCID (history)
	// DueWithin, when not nil, keeps open loans due within that many days
	// of today, overdue ones included: the reminder list.
	DueWithin *int
}

// ListLoans returns loans in the order the desk works them: overdue loans
// first, most overdue at the top, then the other open loans by due date,
// then returned loans, latest check-out first.
func (l *Loans) ListLoans(ctx context.Context, f LoanFilter) ([]Loan, error) {
	q := loanSelect + " WHERE 1 = 1"
	var args []any
	today := l.today()
	if f.Open || f.Overdue || f.DueWithin != nil {
		q += " AND l.in_at IS NULL"
	}
	if f.Overdue {
		q += " AND l.due_on < ?"
		args = append(args, today.Format("2006-01-02"))
	}
	if f.DueWithin != nil {
		q += " AND l.due_on <= ?"
		args = append(args, today.AddDate(0, 0, *f.DueWithin).Format("2006-01-02"))
	}
	if f.MonitorID != "" {
		id := f.MonitorID
		if n, ok := ParseMonitorID(id); ok {
			id = FormatMonitorID(n)
		}
		q += " AND l.monitor_id = ?"
		args = append(args, id)
	}
	if f.Device != "" {
		q += " AND (p.serial = ? OR s.serial = ?)"
		s := NormalizeSerial(f.Device)
		args = append(args, s, s)
	}
	var rows []loanRow
	if err := l.DB.SelectContext(ctx, &rows, l.DB.Rebind(q), args...); err != nil {
		return nil, store.MapErr(err)
	}
	out := make([]Loan, len(rows))
	for i, r := range rows {
		out[i] = r.loan(today)
		if err := openLoan(l.PII, &out[i]); err != nil {
			return nil, err
		}
	}
	group := func(ln Loan) int {
		switch {
		case ln.Open() && ln.DaysOverdue > 0:
			return 0
		case ln.Open():
			return 1
		}
		return 2
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if ga, gb := group(a), group(b); ga != gb {
			return ga < gb
		}
		if a.Open() {
			if a.DueOn != b.DueOn {
				return a.DueOn < b.DueOn
			}
			return a.ID < b.ID
		}
		if !a.OutAt.Equal(b.OutAt) {
			return a.OutAt.After(b.OutAt)
		}
		return a.ID > b.ID
	})
	return out, nil
}

// History returns every event of a loan, oldest first.
func (l *Loans) History(ctx context.Context, loanID int64) ([]LoanEvent, error) {
	var es []LoanEvent
	err := l.DB.SelectContext(ctx, &es, l.DB.Rebind(
		"SELECT id, loan_id, at, kind, staff, due_before, due_after, detail FROM loan_events WHERE loan_id = ? ORDER BY id"), loanID)
	for i := range es {
		es[i].At = es[i].At.UTC()
	}
	return es, store.MapErr(err)
}
