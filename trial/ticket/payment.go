package ticket

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Payment is a simulated credit-card payment at the register. Only the
// last four digits of the number ever reach the store.
type Payment struct {
	Number string // digits; spaces and hyphens are ignored
	Expiry string // MM/YY
}

// ErrDeclined: the (simulated) card company declined the payment.
var ErrDeclined = errors.New("the card company declined the payment")

// Receipt is what the register prints.
type Receipt struct {
	Approved bool
	Number   string // receipt number
	Last4    string
	Amount   int64
	At       time.Time
	EventID  string
}

func (p Payment) digits() string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, p.Number)
}

// Validate checks the number (12–19 digits, Luhn) and that the expiry is a
// valid MM/YY not before now's month.
func (p Payment) Validate(now time.Time) error {
	d := p.digits()
	if len(d) < 12 || len(d) > 19 {
		return fmt.Errorf("card number: %d digits; a card number has 12 to 19", len(d))
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return fmt.Errorf("card number: %q is not a digit", r)
		}
	}
	if !Luhn(d) {
		return errors.New("card number: the check digit is wrong (Luhn)")
	}
	mm, yy, ok := strings.Cut(p.Expiry, "/")
	m, err1 := strconv.Atoi(mm)
	y, err2 := strconv.Atoi(yy)
	if !ok || len(mm) != 2 || len(yy) != 2 || err1 != nil || err2 != nil || m < 1 || m > 12 {
		return fmt.Errorf("expiry: %q is not MM/YY", p.Expiry)
	}
	// A card is valid to the end of its expiry month.
	end := time.Date(2000+y, time.Month(m)+1, 1, 0, 0, 0, 0, time.UTC)
	if !now.Before(end) {
		return fmt.Errorf("expiry: the card expired at the end of %s", p.Expiry)
	}
	return nil
}

// Luhn reports whether a digit string passes the Luhn check.
func Luhn(d string) bool {
	sum := 0
	for i := range len(d) {
		n := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return len(d) > 0 && sum%10 == 0
}

// authorize is the demo card company: like the payment networks' test
// cards, a number ending in 0002 is declined; every other valid card is
// approved. The decision depends only on the number.
func authorize(p Payment, ev Event, ticketID int64, now time.Time) Receipt {
	d := p.digits()
	last4 := d[len(d)-4:]
	r := Receipt{Approved: last4 != "0002", Last4: last4, Amount: ev.PriceYen, At: now, EventID: ev.ID}
	if r.Approved {
		r.Number = fmt.Sprintf("R%s-%06d", now.Format("20060102"), ticketID)
	}
	return r
}
