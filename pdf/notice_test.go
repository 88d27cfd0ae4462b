package pdf_test

import (
	"strings"
	"testing"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/pdf"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestNoticeLetters(t *testing.T) {
	client := pdf.Party{Name: "ООО Ромашка", ContactName: "Елена Смирнова", Email: "accounts@romashka.example"}
	overdue := []pdf.StatementInvoice{
		{Number: "INV-2026-0042", IssueDate: day("2026-01-01"), DueDate: day("2026-01-31"), Balance: 84921, DaysOverdue: 30},
		{Number: "INV-2026-0050", IssueDate: day("2026-02-01"), DueDate: day("2026-02-15"), Balance: 15079, DaysOverdue: 15},
	}
	for _, tc := range []struct {
		name   string
		notice pdf.Notice
		want   []string
	}{
		{
			name: "policy change",
			notice: pdf.Notice{
				Kind: pdf.NoticePolicyChange, Business: business, Client: client,
				Date: day("2026-03-01"), EffectiveOn: day("2026-04-01"),
				Changes: []string{"A late fee of 25.00 EUR on the day after the due date.", "Interest of 8 % a year on the unpaid amount."},
			},
			want: []string{
				"NOTICE", "ООО Ромашка", "Date 1 March 2026", "Effective from 1 April 2026",
				"Notice of a change to your payment terms", "Dear Елена Смирнова,",
				"will change from 1 April 2026", "What changes",
				"• A late fee of 25.00 EUR on the day after the due date.", "• Interest of 8 % a year on the unpaid amount.",
				"These changes take effect on 1 April 2026.", "Yours sincerely,", "Northwind Studio Ltd",
			},
		},
		{
			name: "suspension warning",
			notice: pdf.Notice{
				Kind: pdf.NoticeSuspensionWarning, Business: business, Client: client, Currency: "EUR",
				Date: day("2026-03-02"), EffectiveOn: day("2026-03-16"), Invoices: overdue,
			},
			want: []string{
				"WARNING", "Warning: your service will be suspended", "Suspension on 16 March 2026",
				"with 1,000.00 EUR outstanding", "we will suspend our services to you on 16 March 2026",
				"Overdue invoices", "INV-2026-0042 1 January 2026 31 January 2026 30 849.21",
				"INV-2026-0050 1 February 2026 15 February 2026 15 150.79", "Total due 1,000.00 EUR",
			},
		},
		{
			name: "suspension",
			notice: pdf.Notice{
				Kind: pdf.NoticeSuspension, Business: business, Client: client, Currency: "EUR",
				Date: day("2026-03-16"), EffectiveOn: day("2026-03-16"), Invoices: overdue,
				Subject: "Приостановка услуг / Suspension of services",
			},
			want: []string{
				"Приостановка услуг / Suspension of services", "we have suspended our services to you as of 16 March 2026",
				"Total due 1,000.00 EUR",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := pdf.NewRenderer(0).Notice(tc.notice)
			if err != nil {
				t.Fatal(err)
			}
			mustContain(t, text(t, doc), tc.want...)
		})
	}
}

func TestNoticeRefusesAnUnknownKind(t *testing.T) {
	_, err := pdf.NewRenderer(0).Notice(pdf.Notice{Kind: "eviction", Business: business})
	if code := domain.ErrorCode(err); code != domain.EINVALID {
		t.Fatalf("error %v has code %q, want %q", err, code, domain.EINVALID)
	}
}
