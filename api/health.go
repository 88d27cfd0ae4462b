package api

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/remit/remit/domain"
)

// healthResponse is GET /v1/clients/{id}/health: the period, the thresholds
// and the client's figures and flags.
type healthResponse struct {
	domain.Period
	AsOf       domain.Date       `json:"as_of"`
	Thresholds domain.Thresholds `json:"thresholds"`
	domain.ClientHealth
}

func (s *Server) handleClientHealth(c echo.Context) error {
	from, to, err := s.dateRange(c)
	if err != nil {
		return err
	}
	r, err := s.Health.ClientHealth(c.Request().Context(), c.Param("id"), domain.Period{From: from, To: to})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, healthResponse{Period: r.Period, AsOf: r.AsOf, Thresholds: r.Thresholds, ClientHealth: r.Clients[0]})
}

// reportResponse is GET /v1/reports/clients as JSON.
type reportResponse struct {
	domain.HealthReport
	HasMore bool `json:"has_more"`
}

func (s *Server) handleClientReport(c echo.Context) error {
	from, to, err := s.dateRange(c)
	if err != nil {
		return err
	}
	asCSV := false
	switch c.QueryParam("format") {
	case "json":
	case "csv":
		asCSV = true
	case "":
		asCSV = strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/csv")
	default:
		return fieldError("format", "must be json or csv")
	}
	limit := 0
	if v := c.QueryParam("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			return fieldError("limit", "must be a positive integer (the number of clients, worst first)")
		}
	}
	flaggedOnly := false
	switch c.QueryParam("flagged") {
	case "", "false":
	case "true":
		flaggedOnly = true
	default:
		return fieldError("flagged", "must be true or false")
	}
	r, err := s.Health.ClientReport(c.Request().Context(), domain.Period{From: from, To: to})
	if err != nil {
		return err
	}
	if flaggedOnly {
		kept := r.Clients[:0]
		for _, h := range r.Clients {
			if len(h.Flags) > 0 {
				kept = append(kept, h)
			}
		}
		r.Clients = kept
	}
	out := reportResponse{HealthReport: r}
	if limit > 0 && len(r.Clients) > limit {
		out.Clients, out.HasMore = r.Clients[:limit], true
	}
	if asCSV {
		return writeReportCSV(c, out.HealthReport)
	}
	return c.JSON(http.StatusOK, out)
}

// reportCSVHeader names the columns of the CSV report, one client per row.
var reportCSVHeader = []string{
	"rank", "client_id", "client_name", "currency", "relationship", "status",
	"revenue_received", "minutes", "billable_minutes", "hours", "effective_hourly_rate", "target_hourly_rate",
	"hours_share", "revenue_share",
	"invoices_due", "invoices_paid_on_time", "invoices_paid_late", "invoices_overdue", "on_time_rate", "late_share",
	"average_days_late", "worst_days_late",
	"exceptions", "exceptions_amount", "open_balance", "oldest_overdue_days", "suspended_in_period",
	"flags", "period_from", "period_to",
}

// writeReportCSV answers the report as text/csv: a header row, then one row
// per client worst first; flags are their codes joined by ";", and an
// empty cell is a null figure.
func writeReportCSV(c echo.Context, r domain.HealthReport) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(reportCSVHeader)
	i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
	opt := func(p *int64) string {
		if p == nil {
			return ""
		}
		return i64(*p)
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	for _, h := range r.Clients {
		codes := make([]string, len(h.Flags))
		for i, f := range h.Flags {
			codes[i] = f.Code
		}
		_ = w.Write([]string{
			strconv.Itoa(h.Rank), h.ClientID, csvText(h.ClientName), h.Currency, h.Relationship, h.Status,
			i64(h.RevenueReceived), i64(h.Minutes), i64(h.BillableMinutes), h.Hours, opt(h.EffectiveHourlyRate), opt(h.TargetHourlyRate),
			str(h.HoursShare), str(h.RevenueShare),
			i64(h.InvoicesDue), i64(h.InvoicesPaidOnTime), i64(h.InvoicesPaidLate), i64(h.InvoicesOverdue), str(h.OnTimeRate), str(h.LateShare),
			str(h.AverageDaysLate), opt(h.WorstDaysLate),
			i64(h.Exceptions), i64(h.ExceptionsAmount), i64(h.OpenBalance), i64(h.OldestOverdueDays), strconv.FormatBool(h.SuspendedInPeriod),
			strings.Join(codes, ";"), r.From.String(), r.To.String(),
		})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="clients-`+r.From.String()+`-`+r.To.String()+`.csv"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// csvText keeps a name from being read as a formula by a spreadsheet
// (CSV injection): a leading =, +, -, @, tab or carriage return gets a quote.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
