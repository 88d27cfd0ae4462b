package main

import (
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserPagesInEveryLanguage opens the invoice and account pages of a
// Russian, a Bulgarian and a German client in Chromium: the page declares
// its language, its title, headings and amount due today are the client's
// words and formats, axe-core finds no serious or critical violation, the
// page fits a phone, and the client accepts the terms in their language.
func TestBrowserPagesInEveryLanguage(t *testing.T) {
	ctx := newBrowser(t)
	s := MustRunMain(t, pinned("2026-03-01"), withOwnPublicURL(t))
	shots := os.Getenv("REMIT_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	for _, c := range []struct {
		lang, currency, tz, name  string
		title, heading, due, done string
		english                   []string // words of the English page that must not show
	}{
		{"ru", "RUB", "Europe/Moscow", "ООО «Ромашка»", "Счёт INV-2026-0001", "К оплате сегодня", "1\u00a0034,54\u00a0₽", "Принято: Anna Petrova",
			[]string{"Amount due today", "Invoice", "Accept the terms", "Payment terms"}},
		{"bg", "EUR", "Europe/Sofia", "Рози ЕООД", "Фактура INV-2026-0002", "Дължима сума днес", "1\u00a0034,54\u00a0€", "Прието от Anna Petrova",
			[]string{"Amount due today", "Invoice", "Accept the terms", "Payment terms"}},
		{"de", "EUR", "Europe/Berlin", "Acme GmbH", "Rechnung INV-2026-0003", "Heute fälliger Betrag", "1.034,54\u00a0€", "Akzeptiert von Anna Petrova",
			[]string{"Amount due today", "Invoice", "Accept the terms", "Payment terms"}},
	} {
		t.Run(c.lang, func(t *testing.T) {
			cli := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{
				"name": c.name, "email": "ap@" + c.lang + ".example", "contact_name": "Anna Petrova", "currency": c.currency,
				"timezone": c.tz, "language": c.lang}})
			s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli["id"].(string) + "/agreements", Body: map[string]any{
				"effective_from": "2026-01-01", "payment_terms": "net_30", "late_fee": map[string]any{"flat": 2500},
				"interest": map[string]any{"annual_rate": "12"}, "require_acceptance": true}})
			inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli["id"], "issue": true,
				"issue_date": "2026-01-01", "lines": []map[string]any{
					{"description": "Редизайн сайта / Website", "quantity": "1", "unit_amount": 80000},
					{"description": "Migration", "quantity": "8", "unit_amount": 2500}}}})
			s.must(200, request{Method: "POST", Path: "/v1/billing/run"})

			var lang, title, due, body string
			err := chromedp.Run(ctx, chromedp.Navigate(inv["hosted_invoice_url"].(string)),
				chromedp.AttributeValue("html", "lang", &lang, nil, chromedp.ByQuery),
				chromedp.Title(&title),
				chromedp.Text("#amount-due-today", &due),
				chromedp.Text("main", &body, chromedp.ByQuery))
			if err != nil {
				t.Fatal(err)
			}
			if lang != c.lang || !strings.HasPrefix(title, c.title) || due != c.due || !strings.Contains(body, c.heading) {
				t.Fatalf("invoice page: lang %q, title %q, due %q; body:\n%s", lang, title, due, body)
			}
			for _, w := range c.english {
				if strings.Contains(body, w) {
					t.Errorf("invoice page in %s shows English %q", c.lang, w)
				}
			}
			checkPage(t, ctx, "hosted-invoice-"+c.lang, shots)

			var accepted string
			err = chromedp.Run(ctx, chromedp.Navigate(cli["portal_url"].(string)),
				chromedp.WaitVisible(`input[name="name"]`, chromedp.ByQuery),
				chromedp.AttributeValue("html", "lang", &lang, nil, chromedp.ByQuery),
				chromedp.Text("main", &body, chromedp.ByQuery))
			if err != nil {
				t.Fatal(err)
			}
			if lang != c.lang {
				t.Errorf("account page lang %q", lang)
			}
			for _, w := range c.english {
				if strings.Contains(body, w) {
					t.Errorf("account page in %s shows English %q", c.lang, w)
				}
			}
			checkPage(t, ctx, "hosted-account-"+c.lang, shots)
			err = chromedp.Run(ctx,
				chromedp.SendKeys(`input[name="name"]`, "Anna Petrova", chromedp.ByQuery),
				chromedp.Click(`input[name="agree"]`, chromedp.ByQuery),
				chromedp.Click(`form.accept button`, chromedp.ByQuery),
				chromedp.WaitVisible(`.accepted`, chromedp.ByQuery),
				chromedp.Text(`.accepted`, &accepted))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(accepted, c.done) {
				t.Fatalf("after accepting: %q", accepted)
			}
			list := s.must(200, request{Method: "GET", Path: "/v1/clients/" + cli["id"].(string) + "/agreements"})["data"].([]any)
			acc, _ := list[0].(map[string]any)["acceptance"].(map[string]any)
			if acc == nil || acc["name"] != "Anna Petrova" {
				t.Fatalf("acceptance in the API: %v", list[0])
			}
			checkPage(t, ctx, "hosted-account-accepted-"+c.lang, shots)
		})
	}
}
