package api

// The client-facing pages: the hosted invoice page and the client's account
// page, opened from an unguessable link (REMIT_PUBLIC_URL + a token) with
// no API key. Server-rendered html/template; no JavaScript.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/i18n"
)

//go:embed hosted/*.html hosted/*.css
var hostedFiles embed.FS

var hostedTemplates = template.Must(template.New("").Funcs(template.FuncMap{
	// pair hands a sub-template the page's locale with its value.
	"pair": func(l *i18n.Locale, v any) localized { return localized{L: l, V: v} },
}).ParseFS(hostedFiles, "hosted/*.html"))

// localized is a value with the locale to show it in.
type localized struct {
	L *i18n.Locale
	V any
}

// hostedCSP is the pages' Content-Security-Policy: nothing but the served
// stylesheet; forms post to Remit, which may redirect to Stripe Checkout.
const hostedCSP = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; " +
	"frame-ancestors 'none'; form-action 'self' https://checkout.stripe.com"

// Hosted page paths (PublicURL + path + token).
const (
	hostedInvoicePath = "/i/"
	hostedAccountPath = "/c/"
)

func (s *Server) hostedRoutes() {
	e := s.echo
	e.GET("/hosted.css", s.handleHostedCSS)
	e.GET("/i/:token", s.hosted(s.handleHostedInvoice))
	e.GET("/i/:token/invoice.pdf", s.hosted(s.handleHostedInvoicePDF))
	e.POST("/i/:token/pay", s.hosted(s.handleHostedPay))
	e.GET("/c/:token", s.hosted(s.handleHostedAccount))
	e.GET("/c/:token/statement.pdf", s.hosted(s.handleHostedStatementPDF))
	e.POST("/c/:token/accept", s.hosted(s.handleHostedAccept))
	e.GET("/c/:token/agreements/:agreement_id/acceptance.pdf", s.hosted(s.handleHostedAcceptancePDF))
}

// errHostedMiss is a link that leads nowhere: answered with a plain 404.
var errHostedMiss = errors.New("no such page")

// hosted wraps a page handler: the security headers, a throttle on
// addresses that try wrong links, and errors as plain pages that give
// nothing away (a wrong, rotated or disabled link is the same 404 as a
// path that never existed).
func (s *Server) hosted(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hd := c.Response().Header()
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Content-Security-Policy", hostedCSP)
		hd.Set("X-Robots-Tag", "noindex, nofollow")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Cache-Control", "no-store")
		addr := clientAddr(c)
		if wait := s.linkMisses.wait(addr); wait > 0 {
			return s.throttledPage(c, wait)
		}
		err := h(c)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errHostedMiss) || domain.ErrorCode(err) == domain.ENOTFOUND:
			if wait := s.linkMisses.fail(addr); wait > 0 {
				return s.throttledPage(c, wait)
			}
			return c.String(http.StatusNotFound, "404 page not found\n")
		}
		// The path holds the token: log the route, never the path.
		s.Logger.LogAttrs(c.Request().Context(), slog.LevelError, "hosted page failed",
			slog.String("request_id", requestIDOf(c)), slog.String("route", c.Path()), slog.String("error", err.Error()))
		return c.String(http.StatusInternalServerError, "This page cannot be shown right now; please try again later.\n")
	}
}

func (s *Server) throttledPage(c echo.Context, wait time.Duration) error {
	c.Response().Header().Set("Retry-After", retryAfter(wait))
	return c.String(http.StatusTooManyRequests, "Too many requests; please wait a minute.\n")
}

func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(d.Round(time.Second)/time.Second)))
}

func (s *Server) handleHostedCSS(c echo.Context) error {
	b, err := hostedFiles.ReadFile("hosted/hosted.css")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	c.Response().Header().Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", b)
}

// linksOn reports whether this process serves hosted pages.
func (s *Server) linksOn() bool { return s.Links != nil && s.PublicURL != "" }

// resolve finds the subject of the request's link of kind.
func (s *Server) resolve(c echo.Context, kind string) (string, error) {
	token := c.Param("token")
	if !s.linksOn() || len(token) != 43 {
		return "", errHostedMiss
	}
	id, err := s.Links.ResolveLink(c.Request().Context(), kind, token)
	if err != nil {
		return "", err
	}
	return id, nil
}

// hostedURL is the page of a link.
func (s *Server) hostedURL(path, token string) string {
	return strings.TrimRight(s.PublicURL, "/") + path + token
}

// withInvoiceLinks sets hosted_invoice_url on each issued invoice.
func (s *Server) withInvoiceLinks(ctx context.Context, invs ...*domain.Invoice) error {
	if !s.linksOn() {
		return nil
	}
	var ids []string
	for _, inv := range invs {
		if inv.Status != domain.InvoiceStatusDraft {
			ids = append(ids, inv.ID)
		}
	}
	tokens, err := s.Links.LinkTokens(ctx, domain.LinkInvoice, ids)
	if err != nil {
		return err
	}
	for _, inv := range invs {
		if inv.Status == domain.InvoiceStatusDraft {
			continue
		}
		// An issued invoice without a token has its link revoked: null.
		inv.HostedInvoiceURL = domain.PageLink{Revoked: true}
		if t, ok := tokens[inv.ID]; ok {
			inv.HostedInvoiceURL = domain.PageLink{URL: s.hostedURL(hostedInvoicePath, t)}
		}
	}
	return nil
}

// withClientLinks sets portal_url on each client.
func (s *Server) withClientLinks(ctx context.Context, cls ...*domain.Client) error {
	if !s.linksOn() {
		return nil
	}
	ids := make([]string, len(cls))
	for i, cl := range cls {
		ids[i] = cl.ID
	}
	tokens, err := s.Links.LinkTokens(ctx, domain.LinkClient, ids)
	if err != nil {
		return err
	}
	for _, cl := range cls {
		cl.PortalURL = domain.PageLink{Revoked: true}
		if t, ok := tokens[cl.ID]; ok {
			cl.PortalURL = domain.PageLink{URL: s.hostedURL(hostedAccountPath, t)}
		}
	}
	return nil
}

// invoiceLink serves POST /v1/invoices/{id}/rotate_link (a new link; the
// old one stops answering) and, with revoke, .../revoke_link (no link
// until the next rotate_link).
func (s *Server) invoiceLink(revoke bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.linkRequest(c); err != nil {
			return err
		}
		ctx := c.Request().Context()
		inv, err := s.Invoices.FindInvoiceByID(ctx, c.Param("id"))
		if err != nil {
			return err
		}
		if inv.Status == domain.InvoiceStatusDraft {
			return domain.Conflictf(domain.EINVOICENOTOPEN, "invoice %s is a draft; it has a hosted page once issued", inv.ID)
		}
		inv.HostedInvoiceURL, err = s.changeLink(ctx, domain.LinkInvoice, inv.ID, hostedInvoicePath, revoke)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, inv)
	}
}

// clientLink serves POST /v1/clients/{id}/rotate_link and, with revoke,
// .../revoke_link.
func (s *Server) clientLink(revoke bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.linkRequest(c); err != nil {
			return err
		}
		ctx := c.Request().Context()
		cl, err := s.Clients.FindClientByID(ctx, c.Param("id"))
		if err != nil {
			return err
		}
		cl.PortalURL, err = s.changeLink(ctx, domain.LinkClient, cl.ID, hostedAccountPath, revoke)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, cl)
	}
}

// changeLink revokes the link of the page of kind for id, or rotates it,
// and returns what the API shows of it.
func (s *Server) changeLink(ctx context.Context, kind, id, path string, revoke bool) (domain.PageLink, error) {
	if revoke {
		return domain.PageLink{Revoked: true}, s.Links.RevokeLink(ctx, kind, id)
	}
	token, err := s.Links.RotateLink(ctx, kind, id)
	if err != nil {
		return domain.PageLink{}, err
	}
	return domain.PageLink{URL: s.hostedURL(path, token)}, nil
}

// linkRequest checks a rotate or revoke request: an optional empty body,
// and hosted pages on.
func (s *Server) linkRequest(c echo.Context) error {
	if err := bindOptional(c); err != nil {
		return err
	}
	if !s.linksOn() {
		return domain.Conflictf(domain.ECONFLICT, "hosted pages are off: set REMIT_PUBLIC_URL and REMIT_LINK_KEY")
	}
	return nil
}

// moneyLine is a label and a formatted amount.
type pageLine struct {
	Date        string
	Label       string
	Description string
	Quantity    string
	Unit        string
	Amount      string
	Note        string
}

// invoicePage is what the invoice page shows.
type invoicePage struct {
	L           *i18n.Locale
	Title       string
	Business    domain.Business
	Client      domain.Client
	Invoice     *domain.Invoice
	Lines       []pageLine
	Subtotal    string
	Tax         string
	Total       string
	Charges     []pageLine
	Payments    []pageLine
	AmountPaid  string
	BalanceDue  string
	DueToday    string
	AsOf        string
	DueNote     string
	Terms       []string
	TermsFrom   string
	Default     bool
	PDFURL      string
	PayURL      string
	Pay         *cardQuote
	PayAmount   string
	PayNote     string
	Bank        *domain.BankDetails
	Reference   string
	State       string // paid, processing, cancelled, void, ""
	Payable     bool
	AccountLink string
}

func (s *Server) handleHostedInvoice(c echo.Context) error {
	id, err := s.resolve(c, domain.LinkInvoice)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	docs, err := s.documents()
	if err != nil {
		return err
	}
	doc, err := docs.InvoiceDocument(ctx, id)
	if err != nil {
		return err
	}
	inv := &doc.Invoice
	if inv.Status == domain.InvoiceStatusDraft {
		return errHostedMiss
	}
	cur := inv.Currency
	l := i18n.For(doc.Client.Language)
	money := func(m int64) string { return l.Money(m, cur) }
	date := l.Date
	token := c.Param("token")
	page := invoicePage{
		L: l, Title: l.T("invoice.title", "number", inv.Number), Business: s.Business, Client: doc.Client, Invoice: inv,
		Subtotal: money(inv.Subtotal), Tax: money(inv.Tax), Total: money(inv.Total),
		AmountPaid: money(inv.AmountPaid), BalanceDue: money(inv.BalanceDue),
		Terms:   l.Terms(doc.Agreement, cur, doc.Client.Kind, inv.DueDate),
		Default: doc.Agreement.IsDefault(),
		PDFURL:  hostedInvoicePath + token + "/invoice.pdf",
		Payable: (inv.Status == domain.InvoiceStatusOpen || inv.Status == domain.InvoiceStatusUncollectible) && inv.BalanceDue > 0,
	}
	if !doc.Agreement.IsDefault() {
		page.TermsFrom = date(doc.Agreement.EffectiveFrom)
	}
	for _, l := range inv.Lines {
		page.Lines = append(page.Lines, pageLine{Description: l.Description, Quantity: l.Quantity, Unit: money(l.UnitAmount), Amount: money(l.Amount)})
	}
	for _, ch := range doc.Charges {
		line := pageLine{Date: date(ch.PostedOn), Label: l.T("charge." + string(ch.Kind)), Description: l.ChargeDetail(ch, cur), Amount: money(ch.Amount)}
		if ch.Waived {
			line.Note = l.T("charge.waived")
		}
		page.Charges = append(page.Charges, line)
	}
	for _, p := range paymentLines(doc.Payments, doc.Refunds) {
		page.Payments = append(page.Payments, pageLine{Date: date(p.PaidOn), Label: p.Method, Description: p.Reference, Amount: money(p.Amount)})
	}
	today := domain.DateOf(s.now(), invoiceZone(inv))
	page.AsOf = date(today)
	page.DueToday = page.BalanceDue
	var todays payoff
	if page.Payable {
		if todays, err = s.payoff(ctx, inv, today); err != nil {
			return err
		}
		page.DueToday = money(todays.Amount)
		switch {
		case todays.PostedOnly:
			page.DueNote = l.T("due.missing_rate")
		case todays.Interest > 0:
			page.DueNote = l.T("due.including", "amount", money(todays.Interest))
		}
	}
	switch {
	case inv.Status == domain.InvoiceStatusPaid:
		page.State = "paid"
	case inv.Status == domain.InvoiceStatusVoid:
		page.State = "void"
	case inv.PaymentProcessing || c.QueryParam("checkout") == "success" && page.Payable:
		page.State = "processing"
	case c.QueryParam("checkout") == "cancelled":
		page.State = "cancelled"
	case c.QueryParam("checkout") == "changed" && page.Payable:
		page.State = "changed"
	}
	if page.Payable && s.Payments != nil {
		cq, err := s.cardQuote(ctx, inv, &todays)
		switch {
		case err == nil:
			page.PayURL, page.Pay, page.PayAmount = hostedInvoicePath+token+"/pay", cq, money(cq.Amount)
			switch {
			case cq.PostedOnly:
				page.PayNote = l.T("pay.card_posted_only")
			case cq.Day != today:
				page.PayNote = l.T("pay.card_next_day", "date", date(cq.Day))
			}
		case domain.ErrorCode(err) != domain.EINVALID: // EINVALID: a currency Stripe does not take
			return err
		}
	}
	if page.Payable && page.PayURL == "" {
		if b := s.Business.Bank; b.IBAN != "" || b.AccountNumber != "" {
			page.Bank, page.Reference = &b, inv.Number
		}
	}
	return renderPage(c, http.StatusOK, "invoice.html", page)
}

// payoff is what an open invoice owes on a day: the payoff quote, or where
// interest cannot be quoted (a reference rate is missing) the posted
// balance, flagged PostedOnly.
type payoff struct {
	Day        domain.Date
	Amount     int64
	Interest   int64 // accrued to Day and not yet posted, included in Amount
	PostedOnly bool
}

func (s *Server) payoff(ctx context.Context, inv *domain.Invoice, day domain.Date) (payoff, error) {
	q, err := s.Invoices.Quote(ctx, inv.ID, day)
	switch {
	case err == nil:
		return payoff{Day: day, Amount: q.Payoff, Interest: q.InterestAccruedUnposted}, nil
	case domain.ErrorCode(err) == domain.EMISSINGRATE:
		return payoff{Day: day, Amount: inv.BalanceDue, PostedOnly: true}, nil
	}
	return payoff{}, err
}

// cardQuote is what the Pay button charges: the payoff of Day (see
// domain.CheckoutWindow) in the amount Stripe takes, and when the Checkout
// Session closes.
type cardQuote struct {
	payoff
	Closes time.Time
}

// cardQuote quotes the Pay button at this moment; known is a payoff already
// worked out (reused when it is of the same day), or nil. Returns EINVALID
// for a currency Stripe does not take.
func (s *Server) cardQuote(ctx context.Context, inv *domain.Invoice, known *payoff) (*cardQuote, error) {
	day, closes := domain.CheckoutWindow(s.now(), invoiceZone(inv))
	cq := &cardQuote{Closes: closes}
	if known != nil && known.Day == day {
		cq.payoff = *known
	} else {
		p, err := s.payoff(ctx, inv, day)
		if err != nil {
			return nil, err
		}
		cq.payoff = p
	}
	amount, err := domain.StripeAmount(cq.Amount, inv.Currency)
	if err != nil {
		return nil, err
	}
	cq.Amount = amount
	return cq, nil
}

func renderPage(c echo.Context, status int, name string, data any) error {
	var b strings.Builder
	if err := hostedTemplates.ExecuteTemplate(&b, name, data); err != nil {
		return err
	}
	return c.HTMLBlob(status, []byte(b.String()))
}

func date(d domain.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.LongString()
}

func invoiceZone(inv *domain.Invoice) *time.Location {
	if loc, err := domain.LoadZone(inv.Timezone); err == nil {
		return loc
	}
	return time.UTC
}

func (s *Server) handleHostedInvoicePDF(c echo.Context) error {
	id, err := s.resolve(c, domain.LinkInvoice)
	if err != nil {
		return err
	}
	inv, err := s.Invoices.FindInvoiceByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if inv.Status == domain.InvoiceStatusDraft {
		return errHostedMiss
	}
	name, b, err := s.invoicePDF(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return servePDF(c, name, b)
}

// handleHostedPay opens a Stripe Checkout Session for the invoice and sends
// the payer there; Stripe sends them back to the invoice page.
func (s *Server) handleHostedPay(c echo.Context) error {
	id, err := s.resolve(c, domain.LinkInvoice)
	if err != nil {
		return err
	}
	back := s.hostedURL(hostedInvoicePath, c.Param("token"))
	if s.Payments == nil {
		return c.Redirect(http.StatusSeeOther, back)
	}
	ctx := c.Request().Context()
	inv, err := s.Invoices.FindInvoiceByID(ctx, id)
	if err != nil {
		return err
	}
	if (inv.Status != domain.InvoiceStatusOpen && inv.Status != domain.InvoiceStatusUncollectible) || inv.BalanceDue <= 0 {
		return c.Redirect(http.StatusSeeOther, back) // the page says paid (or void)
	}
	cq, err := s.cardQuote(ctx, inv, nil)
	if domain.ErrorCode(err) == domain.EINVALID {
		return c.Redirect(http.StatusSeeOther, back) // no card payments in this currency: the page has no button
	}
	if err != nil {
		return err
	}
	// The button showed an amount: Stripe charges that amount or nothing.
	// A quote that moved meanwhile (a payment, a posting, midnight) sends
	// the payer back to the page to see the new one.
	if c.FormValue("amount") != strconv.FormatInt(cq.Amount, 10) {
		return c.Redirect(http.StatusSeeOther, back+"?checkout=changed")
	}
	sess, err := s.Payments.CreateCheckout(ctx, id, domain.CheckoutInput{
		SuccessURL: back + "?checkout=success", CancelURL: back + "?checkout=cancelled",
		Amount: cq.Amount, ExpiresAt: cq.Closes,
	})
	switch domain.ErrorCode(err) {
	case "":
	case domain.EINVOICEPAID, domain.EINVOICEVOID, domain.EINVOICENOTOPEN:
		// Paid (or voided) meanwhile: the page says so.
		return c.Redirect(http.StatusSeeOther, back)
	default:
		return err
	}
	if u, err := url.Parse(sess.URL); err != nil || u.Scheme != "https" && u.Scheme != "http" {
		return errors.New("checkout session without a usable URL")
	}
	return c.Redirect(http.StatusSeeOther, sess.URL)
}

// accountPage is what the client's account page shows.
type accountPage struct {
	L            *i18n.Locale
	Title        string
	Business     domain.Business
	Client       domain.Client
	AsOf         string
	Invoices     []accountInvoice
	TotalDue     string
	StatementURL string
	Notices      []pageLine
	Agreement    *accountAgreement
	Upcoming     []accountAgreement
	Accepted     bool
}

type accountInvoice struct {
	Number      string
	URL         string
	IssueDate   string
	DueDate     string
	DaysOverdue int
	Balance     string
	AmountDue   string
}

type accountAgreement struct {
	Version   int
	From      string
	Terms     []string
	Changes   []string
	IsDefault bool
	// Accept is the form of a version awaiting the client's acceptance;
	// Accepted says when and by whom it was accepted, with the PDF.
	Accept   *acceptForm
	Accepted string
	PDFURL   string
}

// acceptForm is the accept form of one version: the exact text shown, its
// SHA-256, and a token that ties the form to this link, version and text.
type acceptForm struct {
	Action      string
	AgreementID string
	Lines       []string
	TermsSHA256 string
	FormToken   string
	Enforced    bool
	Name        string
	Error       string
}

func (s *Server) handleHostedAccount(c echo.Context) error {
	id, err := s.resolve(c, domain.LinkClient)
	if err != nil {
		return err
	}
	page, err := s.accountPage(c, id, nil)
	if err != nil {
		return err
	}
	page.Accepted = c.QueryParam("accepted") == "1"
	return renderPage(c, http.StatusOK, "account.html", page)
}

// accountPage gathers the account page of client id; failed, when set, is
// an accept form sent back with what was wrong.
func (s *Server) accountPage(c echo.Context, id string, failed *acceptForm) (*accountPage, error) {
	ctx := c.Request().Context()
	docs, err := s.documents()
	if err != nil {
		return nil, err
	}
	cl, err := s.Clients.FindClientByID(ctx, id)
	if err != nil {
		return nil, err
	}
	today := domain.DateOf(s.now(), cl.Location())
	token := c.Param("token")
	l := i18n.For(cl.Language)
	page := &accountPage{L: l, Title: l.T("account.title", "name", cl.Name), Business: s.Business, Client: *cl, AsOf: l.Date(today),
		StatementURL: hostedAccountPath + token + "/statement.pdf"}
	st, err := docs.Statement(ctx, id, "", today)
	if err != nil && domain.ErrorCode(err) != domain.EMISSINGRATE {
		return nil, err
	}
	if st != nil {
		money := func(m int64) string { return l.Money(m, st.Currency) }
		page.TotalDue = money(st.TotalDue)
		ids := make([]string, len(st.Invoices))
		for i, si := range st.Invoices {
			ids[i] = si.ID
		}
		tokens, err := s.Links.LinkTokens(ctx, domain.LinkInvoice, ids)
		if err != nil {
			return nil, err
		}
		for _, si := range st.Invoices {
			row := accountInvoice{Number: si.Number, IssueDate: l.Date(si.IssueDate), DueDate: l.Date(si.DueDate),
				DaysOverdue: si.DaysOverdue, Balance: money(si.BalanceDue), AmountDue: money(si.AmountDue)}
			if t, ok := tokens[si.ID]; ok { // none while the invoice's own link is revoked
				row.URL = hostedInvoicePath + t
			}
			page.Invoices = append(page.Invoices, row)
		}
	}
	notices, err := docs.Notices(ctx, id, 50)
	if err != nil {
		return nil, err
	}
	for _, n := range notices {
		label := l.T("notice." + n.Type)
		var first struct {
			First bool `json:"first"`
		}
		if n.Type == domain.EventAgreementNotice && json.Unmarshal(n.Data, &first) == nil && first.First {
			label = l.T("notice.agreement.first") // the first terms, not a change
		}
		page.Notices = append(page.Notices, pageLine{Date: l.Date(domain.DateOf(n.CreatedAt, cl.Location())), Label: label})
	}
	inForce, err := s.Agreements.AgreementInForce(ctx, id, today)
	if err != nil {
		return nil, err
	}
	page.Agreement = s.accountAgreement(token, cl, inForce, failed)
	page.Agreement.IsDefault = inForce.IsDefault()
	versions, err := s.Agreements.FindAgreements(ctx, id)
	if err != nil {
		return nil, err
	}
	prev := inForce
	for _, v := range versions {
		if !v.EffectiveFrom.After(today) {
			continue
		}
		up := s.accountAgreement(token, cl, v, failed)
		up.Changes = i18n.For(cl.Language).TermChanges(prev, v, cl.Currency, cl.Kind)
		page.Upcoming = append(page.Upcoming, *up)
		prev = v
	}
	return page, nil
}

func (s *Server) accountAgreement(token string, cl *domain.Client, a domain.Agreement, failed *acceptForm) *accountAgreement {
	out := &accountAgreement{Version: a.Version, Terms: i18n.For(cl.Language).Terms(a, cl.Currency, cl.Kind, domain.Date{})}
	if a.IsDefault() {
		return out
	}
	l := i18n.For(cl.Language)
	out.From = l.Date(a.EffectiveFrom)
	switch {
	case a.Acceptance != nil:
		at := a.Acceptance.AcceptedAt.In(cl.Location())
		out.Accepted = l.T("accepted.by", "name", a.Acceptance.Name, "date", l.Date(domain.DateOf(at, cl.Location())),
			"time", at.Format("15:04 MST"))
		out.PDFURL = hostedAccountPath + token + "/agreements/" + a.ID + "/acceptance.pdf"
	case a.RequireAcceptance:
		text := l.AcceptanceText(a, cl.Currency, cl.Kind)
		sum := sha256.Sum256([]byte(text))
		f := &acceptForm{Action: hostedAccountPath + token + "/accept", AgreementID: a.ID, Lines: strings.Split(text, "\n"),
			TermsSHA256: hex.EncodeToString(sum[:]), Enforced: a.EnforceOnlyIfAccepted}
		f.FormToken = acceptFormToken(token, a.ID, f.TermsSHA256)
		if failed != nil && failed.AgreementID == a.ID {
			f.Name, f.Error = failed.Name, failed.Error
		}
		out.Accept = f
	}
	return out
}

// acceptFormToken ties an accept form to the link it was served under, the
// version and the exact text: a form made anywhere else does not carry it.
func acceptFormToken(linkToken, agreementID, termsSHA string) string {
	m := hmac.New(sha256.New, []byte(linkToken))
	m.Write([]byte("accept\x00" + agreementID + "\x00" + termsSHA))
	return hex.EncodeToString(m.Sum(nil))
}

// handleHostedAccept records the client's acceptance of a version from the
// account page's form.
func (s *Server) handleHostedAccept(c echo.Context) error {
	id, err := s.resolve(c, domain.LinkClient)
	if err != nil {
		return err
	}
	// A browser says where a form came from; one posted from another site
	// is refused (the form token below refuses the rest).
	if site := c.Request().Header.Get("Sec-Fetch-Site"); site == "cross-site" {
		return c.String(http.StatusForbidden, "This form must be sent from its own page.\n")
	}
	token := c.Param("token")
	form := &acceptForm{AgreementID: c.FormValue("agreement_id"), Name: strings.TrimSpace(c.FormValue("name"))}
	sha := c.FormValue("terms_sha256")
	if !hmac.Equal([]byte(c.FormValue("form_token")), []byte(acceptFormToken(token, form.AgreementID, sha))) {
		return c.String(http.StatusForbidden, "This form has expired; please open the page again.\n")
	}
	ctx := c.Request().Context()
	versions, err := s.Agreements.FindAgreements(ctx, id)
	if err != nil {
		return err
	}
	var ag *domain.Agreement
	for i := range versions {
		if versions[i].ID == form.AgreementID {
			ag = &versions[i]
		}
	}
	if ag == nil {
		return errHostedMiss
	}
	cl, err := s.Clients.FindClientByID(ctx, id)
	if err != nil {
		return err
	}
	// The text the form showed, in the client's language: its SHA-256 must
	// be the one the form carries.
	text := i18n.For(cl.Language).AcceptanceText(*ag, cl.Currency, cl.Kind)
	sum := sha256.Sum256([]byte(text))
	switch {
	case hex.EncodeToString(sum[:]) != sha:
		form.Error = i18n.For(cl.Language).T("accept.err.changed")
	case form.Name == "" || len(form.Name) > domain.MaxNameLen || domain.TextProblem(form.Name, false) != "":
		form.Error = i18n.For(cl.Language).T("accept.err.name")
	case c.FormValue("agree") != "yes":
		form.Error = i18n.For(cl.Language).T("accept.err.box")
	}
	if form.Error == "" {
		ua := c.Request().UserAgent()
		if len(ua) > 500 {
			ua = ua[:500]
		}
		_, err := s.Agreements.AcceptAgreement(ctx, id, ag.ID, domain.Acceptance{Name: form.Name, IPAddress: clientAddr(c), UserAgent: ua,
			TermsSHA256: sha, TermsText: text})
		switch domain.ErrorCode(err) {
		case "":
			return c.Redirect(http.StatusSeeOther, hostedAccountPath+token+"?accepted=1#agreement-h")
		case domain.ECONFLICT:
			return c.Redirect(http.StatusSeeOther, hostedAccountPath+token)
		default:
			return err
		}
	}
	page, err := s.accountPage(c, id, form)
	if err != nil {
		return err
	}
	return renderPage(c, http.StatusBadRequest, "account.html", page)
}

// handleHostedAcceptancePDF serves the accepted terms with the evidence.
func (s *Server) handleHostedAcceptancePDF(c echo.Context) error {
	id, err := s.resolve(c, domain.LinkClient)
	if err != nil {
		return err
	}
	name, b, err := s.acceptanceDocument(c.Request().Context(), id, c.Param("agreement_id"))
	if err != nil {
		return err
	}
	return servePDF(c, name, b)
}

// handleAcceptancePDF serves GET /v1/clients/{id}/agreements/{agreement_id}/acceptance.pdf.
func (s *Server) handleAcceptancePDF(c echo.Context) error {
	name, b, err := s.acceptanceDocument(c.Request().Context(), c.Param("id"), c.Param("agreement_id"))
	if err != nil {
		return err
	}
	return servePDF(c, name, b)
}

// acceptanceDocument renders the client's accepted version with the
// evidence. Returns ENOTFOUND (no such version, or not accepted).
func (s *Server) acceptanceDocument(ctx context.Context, clientID, agreementID string) (string, []byte, error) {
	versions, err := s.Agreements.FindAgreements(ctx, clientID)
	if err != nil {
		return "", nil, err
	}
	cl, err := s.Clients.FindClientByID(ctx, clientID)
	if err != nil {
		return "", nil, err
	}
	for _, a := range versions {
		if a.ID != agreementID || a.Acceptance == nil {
			continue
		}
		b, err := s.renderer().Notice(acceptancePDF(s.Business, cl, a))
		if err != nil {
			return "", nil, err
		}
		return fmt.Sprintf("terms-v%d-accepted.pdf", a.Version), b, nil
	}
	return "", nil, domain.Errorf(domain.ENOTFOUND, "client %s has no accepted agreement %s", clientID, agreementID)
}

func (s *Server) handleHostedStatementPDF(c echo.Context) error {
	id, err := s.resolve(c, domain.LinkClient)
	if err != nil {
		return err
	}
	docs, err := s.documents()
	if err != nil {
		return err
	}
	st, err := docs.Statement(c.Request().Context(), id, "", domain.Date{})
	if err != nil {
		return err
	}
	b, err := s.renderer().Statement(statementPDF(s.Business, st))
	if err != nil {
		return err
	}
	return servePDF(c, "statement-"+st.AsOf.String()+".pdf", b)
}
