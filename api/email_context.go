package api

import (
	"context"
	"log/slog"

	"github.com/remit/remit/domain"
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
	ec := &domain.EmailContext{Greeting: cl.ContactName, Language: cl.Language, Currency: cl.Currency, Bank: s.Business.Bank}
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
			ec.Basis = domain.LegalBasis(*inv.Agreement, cl.Kind)
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
			ec.Basis = domain.LegalBasis(ag, cl.Kind)
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
