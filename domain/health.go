package domain

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"slices"
	"strconv"
	"strings"
)

// Red flags raised on a client's health. Each comes with its figure and the
// threshold that raised it.
const (
	// FlagLatePayer: the share of invoices due in the period that were paid
	// late or are still overdue reached the late-share threshold.
	FlagLatePayer = "late_payer"
	// FlagBelowTargetRate: revenue received per hour worked is under the
	// business target rate.
	FlagBelowTargetRate = "below_target_rate"
	// FlagHoursOverRevenue: the client takes a larger share of the hours
	// worked than of the revenue received.
	FlagHoursOverRevenue = "hours_share_over_revenue_share"
	// FlagHoursOverCap: a client under the target rate takes more than the
	// cap's share of all hours worked.
	FlagHoursOverCap = "hours_share_over_cap"
	// FlagFrequentExceptions: the exceptions granted in the period (waived
	// fees and interest) reached the threshold.
	FlagFrequentExceptions = "frequent_exceptions"
	// FlagFriendsFamilyBalance: a friends-and-family client owes money.
	FlagFriendsFamilyBalance = "friends_family_balance"
	// FlagSuspended: the client was suspended in the period.
	FlagSuspended = "suspended_in_period"
)

// Units of a flag's figure and threshold.
const (
	UnitPercent      = "percent"
	UnitCount        = "count"
	UnitMinorUnits   = "minor_units"
	UnitMinorPerHour = "minor_units_per_hour"
)

// AnyCurrencyTarget is the key of Thresholds.TargetHourlyRates that applies
// to every currency without a target of its own.
const AnyCurrencyTarget = "*"

// Thresholds are the settings that raise red flags. A zero threshold turns
// its flag off.
type Thresholds struct {
	// TargetHourlyRates is the revenue the business wants per hour worked,
	// in minor units, by currency; the key "*" applies to every currency not
	// named. A currency without a target raises no rate flags.
	TargetHourlyRates map[string]int64 `json:"target_hourly_rates"`
	// LateShare is the percent of invoices paid late (or still overdue)
	// that makes a client a chronically late payer.
	LateShare int `json:"late_share"`
	// HoursShareCap is the percent of all hours a client under the target
	// rate may take before it is flagged.
	HoursShareCap int `json:"hours_share_cap"`
	// Exceptions is how many exceptions in the period flag a client.
	Exceptions int `json:"exceptions"`
}

// TargetFor returns the target hourly rate for a currency, 0 for none.
func (t Thresholds) TargetFor(currency string) int64 {
	if r, ok := t.TargetHourlyRates[currency]; ok {
		return r
	}
	return t.TargetHourlyRates[AnyCurrencyTarget]
}

// ParseTargetRates reads a target hourly rate setting: "9000" (minor units
// per hour in every currency), "EUR:9000,GBP:8000" (per currency), or both
// ("7000,EUR:9000"). "" and "0" mean no target.
func ParseTargetRates(s string) (map[string]int64, error) {
	out := map[string]int64{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		cur, amount, found := strings.Cut(part, ":")
		if !found {
			cur, amount = AnyCurrencyTarget, part
		} else if !ValidCurrency(cur) {
			return nil, fmt.Errorf("%q is not an ISO 4217 currency code in upper case", cur)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(amount), 10, 64)
		if err != nil || n < 0 || n > MaxAmount {
			return nil, fmt.Errorf("%q is not a whole number of minor units per hour", amount)
		}
		if _, dup := out[cur]; dup {
			return nil, fmt.Errorf("%s is given twice", cur)
		}
		if n > 0 {
			out[cur] = n
		}
	}
	return out, nil
}

// Period is a range of days, both included.
type Period struct {
	From Date `json:"from"`
	To   Date `json:"to"`
}

// MaxPeriodDays bounds a health period (ten years and some leap days).
const MaxPeriodDays = 3660

// WithDefaults fills an unset end with today and an unset start with the
// day after the same date a year before the end (the last 365 or 366 days),
// and checks the range.
func (p Period) WithDefaults(today Date) (Period, error) {
	if p.To.IsZero() {
		p.To = today
	}
	if p.From.IsZero() {
		p.From = NewDate(p.To.Year()-1, p.To.Month(), p.To.Day()).AddDays(1)
	}
	f := FieldErrors{}
	if p.To.Before(p.From) {
		f.Add("to", "must not be before from")
	} else if p.To.DaysSince(p.From) >= MaxPeriodDays {
		f.Add("from", "the period may span at most %d days", MaxPeriodDays)
	}
	return p, f.Err()
}

// ClientFacts are one client's raw figures for a period, as the store
// aggregates them. Money is in the client's currency only; rows in another
// currency (an invoice billed with currency_override) are left out of it.
type ClientFacts struct {
	ClientID     string
	Name         string
	Currency     string
	Relationship string
	Status       string

	// Received is what the client paid in the period toward principal and
	// charges (payments by paid_on, less refunds by refunded_on, plus
	// credit from earlier overpayments applied to invoices issued in it).
	Received int64
	// Minutes and BillableMinutes are the time entries dated in the period.
	Minutes, BillableMinutes int64

	// InvoicesDue counts the invoices due in the period that are paid or
	// past due unpaid (open ones not yet due, drafts and voids do not count).
	InvoicesDue int64
	// PaidOnTime were paid in full on or before the due date, PaidLate
	// after it; Overdue are still unpaid after it.
	PaidOnTime, PaidLate, Overdue int64
	// DaysLateSum and DaysLateMax are over the invoices paid late:
	// paid_on minus due_date.
	DaysLateSum, DaysLateMax int64

	// Waivers counts the charges waived in the period (by waived_on) and
	// WaivedAmount sums what they gave up.
	Waivers, WaivedAmount int64

	// OpenBalance is what the client owes now on open and uncollectible
	// invoices; OldestOverdueDue is the earliest due date among those past due.
	OpenBalance      int64
	OldestOverdueDue Date

	// Suspensions counts the sweep's suspensions of the client in the period.
	Suspensions int64
}

// Flag is one red flag: what it is, the figure that raised it and the
// threshold it crossed, both as decimal strings in Unit.
type Flag struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Figure    string `json:"figure"`
	Threshold string `json:"threshold"`
	Unit      string `json:"unit"`
}

// ClientHealth is what a client costs against what it brings, with its red
// flags and its rank among all clients (1 is the worst). Whole numbers are
// integers; fractions are decimal strings; null means "no figure" (no hours,
// no invoices due, no target).
type ClientHealth struct {
	Rank         int    `json:"rank"`
	ClientID     string `json:"client_id"`
	ClientName   string `json:"client_name"`
	Currency     string `json:"currency"`
	Relationship string `json:"relationship"`
	Status       string `json:"status"`

	RevenueReceived     int64   `json:"revenue_received"`
	Minutes             int64   `json:"minutes"`
	BillableMinutes     int64   `json:"billable_minutes"`
	Hours               string  `json:"hours"`
	EffectiveHourlyRate *int64  `json:"effective_hourly_rate"`
	TargetHourlyRate    *int64  `json:"target_hourly_rate"`
	HoursShare          *string `json:"hours_share"`
	RevenueShare        *string `json:"revenue_share"`

	InvoicesDue        int64   `json:"invoices_due"`
	InvoicesPaidOnTime int64   `json:"invoices_paid_on_time"`
	InvoicesPaidLate   int64   `json:"invoices_paid_late"`
	InvoicesOverdue    int64   `json:"invoices_overdue"`
	OnTimeRate         *string `json:"on_time_rate"`
	LateShare          *string `json:"late_share"`
	AverageDaysLate    *string `json:"average_days_late"`
	WorstDaysLate      *int64  `json:"worst_days_late"`

	Exceptions       int64 `json:"exceptions"`
	ExceptionsAmount int64 `json:"exceptions_amount"`
	Waivers          int64 `json:"waivers"`
	WaivedAmount     int64 `json:"waived_amount"`

	OpenBalance       int64 `json:"open_balance"`
	OldestOverdueDays int64 `json:"oldest_overdue_days"`

	SuspendedInPeriod bool  `json:"suspended_in_period"`
	Suspensions       int64 `json:"suspensions"`

	Flags []Flag `json:"flags"`

	// order holds what ranks clients with as many flags.
	order rankKey
}

// rankKey is what orders clients with as many flags: the excess of the hours
// share over the revenue share (hours/allHours - received/allReceived),
// then the late share (late/due).
type rankKey struct {
	hours, allHours, received, allReceived int64
	excess                                 float64
	late, due                              int64
}

// compareExcess compares two clients' excess of hours share over revenue
// share exactly: by the float approximations when they are far apart, else
// with rationals.
func (a rankKey) compareExcess(b rankKey) int {
	if d := a.excess - b.excess; d > 1e-9 || d < -1e-9 {
		return cmp.Compare(a.excess, b.excess)
	}
	return a.exactExcess().Cmp(b.exactExcess())
}

func (a rankKey) exactExcess() *big.Rat {
	r := new(big.Rat)
	if a.allHours > 0 {
		r.SetFrac64(a.hours, a.allHours)
	}
	if a.allReceived > 0 {
		r.Sub(r, big.NewRat(a.received, a.allReceived))
	}
	return r
}

// compareLate compares two clients' late shares exactly (no invoices due: 0).
func (a rankKey) compareLate(b rankKey) int {
	ad, bd := max(a.due, 1), max(b.due, 1)
	return mulCmp(a.late, bd, b.late, ad)
}

// HealthReport is the health of clients in a period, worst first.
type HealthReport struct {
	Period
	AsOf       Date           `json:"as_of"`
	Thresholds Thresholds     `json:"thresholds"`
	Clients    []ClientHealth `json:"data"`
}

// HealthService reports what clients cost against what they bring.
type HealthService interface {
	// ClientHealth returns one client's health in the period (zero dates:
	// the last year to today), ranked among all clients; the report holds
	// that client alone. Returns ENOTFOUND, EINVALID.
	ClientHealth(ctx context.Context, clientID string, p Period) (HealthReport, error)
	// ClientReport returns every client's health in the period, worst
	// first. Returns EINVALID.
	ClientReport(ctx context.Context, p Period) (HealthReport, error)
}

// AssessHealth turns each client's facts into its figures and red flags,
// and ranks the clients worst first: more flags first; among as many flags,
// the larger excess of hours share over revenue share, then the larger late
// share, then the client id. Shares are computed among the clients billed
// in the same currency, so that only like amounts are added. today is the
// business date the report is made on.
func AssessHealth(facts []ClientFacts, t Thresholds, p Period, today Date) []ClientHealth {
	type totals struct{ minutes, received int64 }
	byCurrency := map[string]*totals{}
	for _, f := range facts {
		tot := byCurrency[f.Currency]
		if tot == nil {
			tot = &totals{}
			byCurrency[f.Currency] = tot
		}
		tot.minutes += f.Minutes
		tot.received = SaturatingAdd(tot.received, f.Received) // a share, held rather than wrapped
	}
	all := make([]ClientHealth, len(facts))
	ranked := make([]*ClientHealth, len(facts))
	for i, f := range facts {
		tot := byCurrency[f.Currency]
		all[i] = assess(f, t, p, today, tot.minutes, tot.received)
		ranked[i] = &all[i]
	}
	// Sort pointers: a ClientHealth is large to move.
	slices.SortFunc(ranked, func(a, b *ClientHealth) int {
		if c := cmp.Compare(len(b.Flags), len(a.Flags)); c != 0 {
			return c
		}
		if c := b.order.compareExcess(a.order); c != 0 {
			return c
		}
		if c := b.order.compareLate(a.order); c != 0 {
			return c
		}
		return strings.Compare(a.ClientID, b.ClientID)
	})
	out := make([]ClientHealth, len(ranked))
	for i, h := range ranked {
		out[i] = *h
		out[i].Rank = i + 1
	}
	return out
}

// assess computes one client's figures and flags; allMinutes and
// allReceived are the totals of the clients in its currency.
func assess(f ClientFacts, t Thresholds, p Period, today Date, allMinutes, allReceived int64) ClientHealth {
	h := ClientHealth{
		ClientID: f.ClientID, ClientName: f.Name, Currency: f.Currency, Relationship: f.Relationship, Status: f.Status,
		RevenueReceived: f.Received, Minutes: f.Minutes, BillableMinutes: f.BillableMinutes,
		Hours:       ratio(f.Minutes, 1, 60, 2),
		InvoicesDue: f.InvoicesDue, InvoicesPaidOnTime: f.PaidOnTime, InvoicesPaidLate: f.PaidLate, InvoicesOverdue: f.Overdue,
		Exceptions: f.Waivers, ExceptionsAmount: f.WaivedAmount, Waivers: f.Waivers, WaivedAmount: f.WaivedAmount,
		OpenBalance: f.OpenBalance, Suspensions: f.Suspensions,
		Flags: []Flag{},
		order: rankKey{hours: f.Minutes, allHours: allMinutes, received: f.Received, allReceived: allReceived,
			late: f.PaidLate + f.Overdue, due: f.InvoicesDue},
	}
	if allMinutes > 0 {
		h.order.excess = float64(f.Minutes) / float64(allMinutes)
	}
	if allReceived > 0 {
		h.order.excess -= float64(f.Received) / float64(allReceived)
	}
	if !f.OldestOverdueDue.IsZero() {
		h.OldestOverdueDays = int64(today.DaysSince(f.OldestOverdueDue))
	}
	flag := func(code, unit, figure, threshold, format string, args ...any) {
		h.Flags = append(h.Flags, Flag{Code: code, Message: fmt.Sprintf(format, args...), Figure: figure, Threshold: threshold, Unit: unit})
	}

	// Timeliness.
	late := f.PaidLate + f.Overdue
	if f.InvoicesDue > 0 {
		h.OnTimeRate = ptr(percent(f.PaidOnTime, f.InvoicesDue))
		h.LateShare = ptr(percent(late, f.InvoicesDue))
		if t.LateShare > 0 && late*100 >= int64(t.LateShare)*f.InvoicesDue {
			flag(FlagLatePayer, UnitPercent, *h.LateShare, strconv.Itoa(t.LateShare),
				"%d of %d invoices due in the period were paid late or are overdue (%s %%, threshold %d %%)",
				late, f.InvoicesDue, *h.LateShare, t.LateShare)
		}
	}
	if f.PaidLate > 0 {
		h.AverageDaysLate = ptr(ratio(f.DaysLateSum, 1, f.PaidLate, 1))
		h.WorstDaysLate = ptr(f.DaysLateMax)
	}

	// Rate against target.
	belowTarget := false
	if target := t.TargetFor(f.Currency); target > 0 {
		h.TargetHourlyRate = ptr(target)
		if f.Minutes > 0 {
			// received / (minutes / 60) < target, without rounding.
			belowTarget = mulCmp(f.Received, 60, target, f.Minutes) < 0
		}
	}
	if f.Minutes > 0 {
		h.EffectiveHourlyRate = ptr(roundDiv(f.Received, 60, f.Minutes))
		if belowTarget {
			flag(FlagBelowTargetRate, UnitMinorPerHour, strconv.FormatInt(*h.EffectiveHourlyRate, 10), strconv.FormatInt(*h.TargetHourlyRate, 10),
				"received %s per hour worked over %s hours, under the target of %s",
				FormatMoney(*h.EffectiveHourlyRate, f.Currency), h.Hours, FormatMoney(*h.TargetHourlyRate, f.Currency))
		}
	}

	// Shares of hours and of revenue among the clients in the same currency.
	if allReceived > 0 {
		h.RevenueShare = ptr(percent(f.Received, allReceived))
	}
	if allMinutes > 0 {
		h.HoursShare = ptr(percent(f.Minutes, allMinutes))
		if f.Minutes > 0 && h.order.compareExcess(rankKey{}) > 0 {
			revenue := "0"
			if h.RevenueShare != nil {
				revenue = *h.RevenueShare
			}
			flag(FlagHoursOverRevenue, UnitPercent, *h.HoursShare, revenue,
				"takes %s %% of the hours worked for %s clients but brings %s %% of their revenue", *h.HoursShare, f.Currency, revenue)
		}
		// minutes/allMinutes > cap/100
		if belowTarget && t.HoursShareCap > 0 && mulCmp(f.Minutes, 100, int64(t.HoursShareCap), allMinutes) > 0 {
			flag(FlagHoursOverCap, UnitPercent, *h.HoursShare, strconv.Itoa(t.HoursShareCap),
				"under the target rate and takes %s %% of the hours worked for %s clients, over the cap of %d %%", *h.HoursShare, f.Currency, t.HoursShareCap)
		}
	}

	// Exceptions granted.
	if t.Exceptions > 0 && h.Exceptions >= int64(t.Exceptions) {
		flag(FlagFrequentExceptions, UnitCount, strconv.FormatInt(h.Exceptions, 10), strconv.Itoa(t.Exceptions),
			"exceptions granted in the period: %d (waived charges: %d, %s), threshold %d",
			h.Exceptions, f.Waivers, FormatMoney(f.WaivedAmount, f.Currency), t.Exceptions)
	}

	// Friends and family who owe.
	if f.Relationship == RelationshipFriendsFamily && f.OpenBalance > 0 {
		flag(FlagFriendsFamilyBalance, UnitMinorUnits, strconv.FormatInt(f.OpenBalance, 10), "0",
			"friends-and-family client owes %s", FormatMoney(f.OpenBalance, f.Currency))
	}

	// Suspension: the sweep's suspensions in the period, or a suspension
	// that lasts today when the period includes today (a suspension by hand
	// leaves no dated record).
	suspendedNow := f.Status == ClientSuspended && !today.Before(p.From) && !p.To.Before(today)
	if f.Suspensions > 0 || suspendedNow {
		h.SuspendedInPeriod = true
		n := max(f.Suspensions, 1)
		flag(FlagSuspended, UnitCount, strconv.FormatInt(n, 10), "0", "suspended in the period (%d times)", n)
	}
	return h
}

func ptr[T any](v T) *T { return &v }

// percent returns 100*num/den as a decimal string with at most two decimals.
func percent(num, den int64) string { return ratio(num, 100, den, 2) }

// ratio writes num*mul/den rounded half away from zero to at most places
// decimals, without trailing zeros ("37.5", "12", "-0.33"); den > 0.
func ratio(num, mul, den int64, places int) string {
	scale := int64(1)
	for range places {
		scale *= 10
	}
	var s string
	if q, ok := mulDivRound(num, mul*scale, den); ok {
		neg := q < 0
		if neg {
			q = -q
		}
		s = strconv.FormatInt(q/scale, 10)
		if frac := q % scale; frac != 0 {
			f := strconv.FormatInt(frac+scale, 10)[1:] // zero-padded to places digits
			s += "." + strings.TrimRight(f, "0")
		}
		if neg && q != 0 {
			s = "-" + s
		}
		return s
	}
	r := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(num), big.NewInt(mul)), big.NewInt(den))
	s = r.FloatString(places)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// roundDiv returns num*mul/den rounded half away from zero; a figure too
// large for an int64 (far beyond any real rate) is capped at MaxAmount.
func roundDiv(num, mul, den int64) int64 {
	if q, ok := mulDivRound(num, mul, den); ok {
		return q
	}
	q, err := RoundHalfAway(new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(num), big.NewInt(mul)), big.NewInt(den)))
	if err != nil {
		return MaxAmount
	}
	return q
}

// mulDivRound computes num*mul/den (mul >= 0, den > 0) rounded half away
// from zero in 128-bit arithmetic; ok is false when the result does not fit.
func mulDivRound(num, mul, den int64) (int64, bool) {
	if mul < 0 || den <= 0 {
		return 0, false
	}
	neg := num < 0
	n := uint64(num)
	if neg {
		n = -n
	}
	hi, lo := bits.Mul64(n, uint64(mul))
	if hi >= uint64(den) {
		return 0, false
	}
	q, rem := bits.Div64(hi, lo, uint64(den))
	if rem >= uint64(den)-rem { // rem >= den/2, exactly
		q++
	}
	if q > math.MaxInt64 {
		return 0, false
	}
	if neg {
		return -int64(q), true
	}
	return int64(q), true
}

// mulCmp compares a*b with c*d exactly.
func mulCmp(a, b, c, d int64) int {
	x, xok := mul64(a, b)
	y, yok := mul64(c, d)
	if xok && yok {
		return cmp.Compare(x, y)
	}
	return new(big.Int).Mul(big.NewInt(a), big.NewInt(b)).Cmp(new(big.Int).Mul(big.NewInt(c), big.NewInt(d)))
}

// mul64 returns a*b and whether it did not overflow.
func mul64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	p := a * b
	return p, p/b == a && !(a == -1 && b == math.MinInt64) && !(b == -1 && a == math.MinInt64)
}
