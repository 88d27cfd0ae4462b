package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
)

// floorServer is the same-work floor on PostgreSQL: Echo and pgx with no
// auth, validation, idempotency or logging, writing into Remit's own tables
// (so with the same indexes and constraints) the rows Remit writes for the
// same requests. An invoice issued: the series counter, the invoice, its
// lines, invoice.created and invoice.issued with the outbox row of the
// latter. A payment: the payment, the invoice's new figures, payment.recorded
// and invoice.paid with the outbox row of the latter. Each request is one
// transaction sent as one pgx batch (one round trip); nothing is read back.
type floorServer struct {
	pool *pgxpool.Pool
	srv  *http.Server
	url  string
}

// startFloorServer starts the floor on addr ("127.0.0.1:0": a free port).
func startFloorServer(ctx context.Context, databaseURL string, conns int, addr string) (*floorServer, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = int32(conns)
	// While other targets of the run are driven, a floor's connections
	// close after a second idle, so that the run's groups of processes
	// do not together hold more than the server's max_connections.
	cfg.MaxConnIdleTime, cfg.HealthCheckPeriod = time.Second, 500*time.Millisecond
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	f := &floorServer{pool: pool}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	var once sync.Once
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		// The report counts errors; the first one says what went wrong.
		once.Do(func() { fmt.Fprintf(os.Stderr, "floor-pg: %s %s: %v\n", c.Request().Method, c.Path(), err) })
		_ = c.NoContent(http.StatusInternalServerError)
	}
	e.GET("/healthz", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	e.POST("/v1/clients", f.createClient)
	e.GET("/v1/clients/:id", f.findClient)
	e.POST("/v1/invoices", f.issueInvoice)
	e.POST("/v1/invoices/:id/payments", f.recordPayment)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		pool.Close()
		return nil, err
	}
	f.srv, f.url = &http.Server{Handler: e}, "http://"+ln.Addr().String()
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

// serveFloor is `remit loadtest -serve-floor ADDR`: the floor alone, in a
// process of its own, until ctx ends; the floor groups (floor-xN) are made
// of these.
func serveFloor(ctx context.Context, databaseURL string, conns int, addr string) error {
	f, err := startFloorServer(ctx, databaseURL, conns, addr)
	if err != nil {
		return err
	}
	<-ctx.Done()
	f.Close()
	return nil
}

func (f *floorServer) Close() {
	_ = f.srv.Close()
	f.pool.Close()
}

// floorSeq numbers the floor's ids; a prefix per process keeps runs on the
// same database apart.
var (
	floorSeq    atomic.Int64
	floorPrefix = strconv.FormatInt(time.Now().UnixNano(), 36)
)

func floorID(kind string) string {
	return fmt.Sprintf("%s_floor%s_%012d", kind, floorPrefix, floorSeq.Add(1))
}

func (f *floorServer) createClient(c echo.Context) error {
	var in struct{ Name, Email, Currency string }
	if err := json.NewDecoder(c.Request().Body).Decode(&in); err != nil {
		return c.NoContent(http.StatusBadRequest)
	}
	id, now := floorID("cli"), time.Now().UTC()
	if _, err := f.pool.Exec(c.Request().Context(), `INSERT INTO clients (id, name, email, timezone, currency, relationship, status, created_at, updated_at)
		VALUES ($1, $2, $3, 'UTC', $4, 'standard', 'active', $5, $5)`, id, in.Name, in.Email, in.Currency, now); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]string{"id": id, "name": in.Name, "email": in.Email, "currency": in.Currency})
}

func (f *floorServer) findClient(c echo.Context) error {
	var id, name, email, currency string
	if err := f.pool.QueryRow(c.Request().Context(), `SELECT id, name, email, currency FROM clients WHERE id = $1`, c.Param("id")).
		Scan(&id, &name, &email, &currency); err != nil {
		return c.NoContent(http.StatusNotFound)
	}
	return c.JSON(http.StatusOK, map[string]string{"id": id, "name": name, "email": email, "currency": currency})
}

// floorIssueSQL takes the next number of the series and writes the invoice
// with it, in one statement.
const floorIssueSQL = `WITH n AS (
	INSERT INTO invoice_counters (series, last_number) VALUES ($3, 1)
	ON CONFLICT (series) DO UPDATE SET last_number = invoice_counters.last_number + 1 RETURNING last_number)
INSERT INTO invoices (id, client_id, number, status, currency, timezone, issue_date, due_date, overdue_from, overdue_at,
	subtotal, tax, total, balance_due, agreement, next_action_on, created_at, updated_at, issued_at)
SELECT $1, $2, $3 || '-' || CASE WHEN n.last_number < 10000 THEN lpad(n.last_number::text, 4, '0') ELSE n.last_number::text END, 'open', 'EUR', 'UTC', $4, $5, $6, $7,
	$8, $9, $10, $10, '{}', $5, $11, $11, $11 FROM n`

func (f *floorServer) issueInvoice(c echo.Context) error {
	var in struct {
		ClientID string `json:"client_id"`
		Lines    []struct {
			Description string `json:"description"`
			Quantity    string `json:"quantity"`
			UnitAmount  int64  `json:"unit_amount"`
			TaxRate     string `json:"tax_rate"`
		} `json:"lines"`
	}
	if err := json.NewDecoder(c.Request().Body).Decode(&in); err != nil || len(in.Lines) == 0 {
		return c.NoContent(http.StatusBadRequest)
	}
	now := time.Now().UTC()
	today := now.Format(time.DateOnly)
	due := now.AddDate(0, 0, 30).Format(time.DateOnly)
	overdue := now.AddDate(0, 0, 31)
	id := floorID("inv")
	var subtotal, tax int64
	b := &pgx.Batch{}
	linesSQL := "INSERT INTO invoice_lines (invoice_id, position, description, quantity, unit_amount, tax_rate, amount, tax) VALUES "
	var args []any
	for i, l := range in.Lines {
		q, _ := strconv.ParseFloat(l.Quantity, 64)
		r, _ := strconv.ParseFloat(l.TaxRate, 64)
		amount := int64(q*float64(l.UnitAmount) + 0.5)
		t := int64(float64(amount)*r/100 + 0.5)
		subtotal, tax = subtotal+amount, tax+t
		if i > 0 {
			linesSQL += ", "
		}
		n := len(args)
		linesSQL += fmt.Sprintf("($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8)
		args = append(args, id, i, l.Description, l.Quantity, l.UnitAmount, l.TaxRate, amount, t)
	}
	total := subtotal + tax
	series := "FLOOR-" + strconv.Itoa(now.Year())
	b.Queue(floorIssueSQL, id, in.ClientID, series, today, due, overdue.Format(time.DateOnly), overdue.Truncate(24*time.Hour),
		subtotal, tax, total, now)
	b.Queue(linesSQL, args...)
	created, issued, outbox := floorID("evt"), floorID("evt"), floorID("obx")
	b.Queue(`INSERT INTO events (id, type, client_id, invoice_id, actor, data, created_at) VALUES
		($1, 'invoice.created', $3, $4, 'floor', $5, $7),
		($2, 'invoice.issued', $3, $4, 'floor', '{"number":"' || (SELECT number FROM invoices WHERE id = $4) || '",' || $6, $7)`,
		created, issued, in.ClientID, id, fmt.Sprintf(`{"currency":"EUR","total":%d}`, total),
		fmt.Sprintf(`"issue_date":%q,"due_date":%q,"currency":"EUR","total":%d}`, today, due, total), now)
	b.Queue(`INSERT INTO outbox (id, event_id, type, client_id, invoice_id, created_at) VALUES ($1, $2, 'invoice.issued', $3, $4, $5)`,
		outbox, issued, in.ClientID, id, now)
	if err := f.pool.SendBatch(c.Request().Context(), b).Close(); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"id": id, "client_id": in.ClientID, "status": "open", "total": total})
}

func (f *floorServer) recordPayment(c echo.Context) error {
	var in struct {
		Amount    int64  `json:"amount"`
		Method    string `json:"method"`
		Reference string `json:"reference"`
	}
	if err := json.NewDecoder(c.Request().Body).Decode(&in); err != nil {
		return c.NoContent(http.StatusBadRequest)
	}
	now := time.Now().UTC()
	today := now.Format(time.DateOnly)
	invoiceID, id := c.Param("id"), floorID("pay")
	recorded, paid, outbox := floorID("evt"), floorID("evt"), floorID("obx")
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO payments (id, invoice_id, client_id, amount, currency, paid_on, method, reference, source, external_key, alloc_principal, created_at)
		SELECT $1, id, client_id, $2, currency, $3, $4, $5, 'manual', $1, $2, $6 FROM invoices WHERE id = $7`,
		id, in.Amount, today, in.Method, in.Reference, now, invoiceID)
	b.Queue(`UPDATE invoices SET status = 'paid', paid_on = $1, amount_paid = amount_paid + $2, principal_paid = principal_paid + $2,
		balance_due = balance_due - $2, next_action_on = NULL, updated_at = $3 WHERE id = $4`, today, in.Amount, now, invoiceID)
	b.Queue(`INSERT INTO events (id, type, client_id, invoice_id, actor, data, created_at)
		SELECT $1, 'payment.recorded', client_id, id, 'floor', $3::text, $5::timestamp FROM invoices WHERE id = $6
		UNION ALL SELECT $2, 'invoice.paid', client_id, id, 'floor', $4::text, $5::timestamp FROM invoices WHERE id = $6`,
		recorded, paid, fmt.Sprintf(`{"id":%q,"amount":%d,"method":%q,"paid_on":%q}`, id, in.Amount, in.Method, today),
		fmt.Sprintf(`{"paid_on":%q,"amount_paid":%d}`, today, in.Amount), now, invoiceID)
	b.Queue(`INSERT INTO outbox (id, event_id, type, client_id, invoice_id, created_at)
		SELECT $1, $2, 'invoice.paid', client_id, id, $3 FROM invoices WHERE id = $4`, outbox, paid, now, invoiceID)
	if err := f.pool.SendBatch(c.Request().Context(), b).Close(); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"id": id, "invoice_id": invoiceID, "amount": in.Amount})
}
