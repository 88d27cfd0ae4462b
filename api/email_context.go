package api

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/i18n"
)

// EmailContext gives a client e-mail what it states beyond its event: the
// greeting, the amount due today (the payoff, or for a suspension notice
// the client's statement total), the date to pay by, where and how to pay
// and the basis of the terms. The outbox's e-mail sender calls it when it
// sends, so the figures are the day's. Anything it cannot read is left out
// (and logged), never holding the mail back.
func (s *Server) EmailContext(ctx context.Context, m domain.OutboxMessage) *domain.EmailContext {
	if domain.ForBusiness(m.Type) || m.ClientID == "" {
		return nil
	}
	fail := func(err error) {
		s.Logger.LogAttrs(ctx, slog.LevelWarn, "e-mail without part of its context",
			slog.String("outbox_id", m.ID), slog.String("type", m.Type), slog.String("error", err.Error()))
	}
	cl, err := s.Clients.FindClientByID(ctx, m.ClientID)
	if err != nil {
		fail(err)
		return nil
	}
	ec := &domain.EmailContext{Greeting: cl.ContactName, Language: cl.Language, Kind: cl.Kind, Currency: cl.Currency,
		Bank: s.Business.Bank}
	l := i18n.For(cl.Language)
	if ec.Greeting == "" {
		ec.Greeting = cl.Name
	}
	today := domain.DateOf(s.now(), cl.Location())
	clientWide := m.Type == domain.EventClientSuspensionWarning || m.Type == domain.EventClientSuspended || m.InvoiceID == ""
	invoiceLinkRevoked := false
	if !clientWide {
		inv, err := s.Invoices.FindInvoiceByID(ctx, m.InvoiceID)
		if err != nil {
			fail(err)
			return ec
		}
		if err := s.withInvoiceLinks(ctx, inv); err != nil {
			fail(err)
		}
		ec.Currency, ec.InvoiceNumber, ec.Reference, ec.PayURL = inv.Currency, inv.Number, inv.Number, inv.HostedInvoiceURL.URL
		// A revoked invoice link is not replaced by the account page's.
		invoiceLinkRevoked = inv.HostedInvoiceURL.Revoked
		if inv.Agreement != nil {
			ec.Basis = l.LegalBasis(*inv.Agreement, cl.Kind)
		}
		if m.Type == domain.EventChargePosted || m.Type == domain.EventChargeAdjusted {
			if ec.Charge, err = s.chargeWords(ctx, l, m); err != nil {
				fail(err)
			}
		}
		today = domain.DateOf(s.now(), invoiceZone(inv))
		if (inv.Status == domain.InvoiceStatusOpen || inv.Status == domain.InvoiceStatusUncollectible) && inv.BalanceDue > 0 {
			ec.Owed, ec.AsOf, ec.AmountDueToday = true, today, inv.BalanceDue
			if q, err := s.Invoices.Quote(ctx, inv.ID, today); err == nil {
				ec.AmountDueToday = q.Payoff
			}
			if today.After(inv.DueDate) {
				ec.Overdue = true
			} else {
				ec.PayBy = inv.DueDate
			}
		}
	} else if docs, err := s.documents(); err == nil {
		if st, err := docs.Statement(ctx, cl.ID, "", today); err == nil && st.TotalDue > 0 {
			ec.Owed, ec.AsOf, ec.AmountDueToday, ec.Overdue = true, today, st.TotalDue, true
		}
		if ag, err := s.Agreements.AgreementInForce(ctx, cl.ID, today); err == nil {
			ec.Basis = l.LegalBasis(ag, cl.Kind)
		}
	}
	if s.linksOn() {
		if err := s.withClientLinks(ctx, cl); err != nil {
			fail(err)
		} else {
			if ec.PayURL == "" && !invoiceLinkRevoked {
				ec.PayURL = cl.PortalURL.URL
			}
			if m.Type == domain.EventAgreementNotice {
				ec.AcceptURL = cl.PortalURL.URL
			}
		}
	}
	return ec
}

// chargeWords says what the charge of a charge.posted or charge.adjusted
// message is, in the words of l: its kind and what the ledger keeps about
// how it was worked out.
func (s *Server) chargeWords(ctx context.Context, l *i18n.Locale, m domain.OutboxMessage) (string, error) {
	var env struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(m.Payload, &env); err != nil {
		return "", err
	}
	docs, err := s.documents()
	if err != nil {
		return "", err
	}
	doc, err := docs.InvoiceDocument(ctx, m.InvoiceID)
	if err != nil {
		return "", err
	}
	for _, c := range doc.Charges {
		if c.ID == env.Data.ID {
			words := l.T("charge." + string(c.Kind))
			if detail := l.ChargeDetail(c, doc.Invoice.Currency); detail != "" {
				words += ", " + detail
			}
			return l.T("mail.charge.what", "charge", words, "date", l.Date(c.PostedOn)), nil
		}
	}
	return "", nil
}
