package payments

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/remit/remit/domain"
)

// HandleWebhook implements domain.PaymentGateway.
//
// API versions: stripe-go v76 is pinned to stripe.APIVersion, and
// webhook.ConstructEvent refuses an event rendered in any other version.
// Remit does not: Stripe renders an endpoint's events in the account's
// default version, which changes when the account upgrades, and refusing
// them would make Stripe retry for three days and then disable the
// endpoint. So the signature is checked with the webhook package
// (webhook.ValidatePayloadWithTolerance, 300 s), and the body is decoded into
// Remit's own small structs that read only fields Stripe has kept across
// versions (ids, amounts, currency, status, metadata, payment_intent,
// charge, amount_refunded). A version other than the pinned one is logged
// once per version, as a warning to review, and processed.
func (g *Gateway) HandleWebhook(ctx context.Context, payload []byte, signature string) (domain.StripeEventResult, error) {
	if g.cfg.WebhookSecret == "" {
		return domain.StripeEventResult{}, notConfigured("STRIPE_WEBHOOK_SECRET")
	}
	if err := webhook.ValidatePayloadWithTolerance(payload, signature, g.cfg.WebhookSecret, WebhookTolerance); err != nil {
		return domain.StripeEventResult{}, signatureError(err)
	}
	// stripe-go refuses a timestamp older than the tolerance but not one as
	// far in the future: a signature made ahead of time (or captured from a
	// sender whose clock runs fast) must not be replayable for longer.
	if ts, ok := signatureTime(signature); !ok || ts.After(g.signatureNow().Add(WebhookTolerance)) {
		return domain.StripeEventResult{}, &domain.Error{Code: domain.EBADSIGNATURE, Kind: domain.EINVALID,
			Message: "Stripe-Signature timestamp is more than 300 seconds in the future"}
	}
	ev, err := DecodeEvent(payload)
	if err != nil {
		return domain.StripeEventResult{}, err
	}
	if ev == nil {
		return domain.StripeEventResult{Outcome: "ignored: event type not handled"}, nil
	}
	if ev.APIVersion != "" && ev.APIVersion != stripe.APIVersion {
		if _, seen := g.versions.LoadOrStore(ev.APIVersion, true); !seen {
			g.deps.Logger.Warn("stripe webhook api_version differs from the version stripe-go is pinned to; reading version-stable fields only",
				"api_version", ev.APIVersion, "pinned", stripe.APIVersion, "event_id", ev.ID)
		}
	}
	res, err := g.deps.Ledger.ApplyStripeEvent(ctx, *ev)
	if err == nil && res.UnappliedPaymentID != "" {
		g.deps.Logger.Warn("stripe collected money no invoice takes; kept as an unapplied payment for an admin to apply or refund",
			"unapplied_payment_id", res.UnappliedPaymentID, "event_id", ev.ID, "payment_intent", ev.IntentID,
			"invoice_id", ev.InvoiceID, "amount", ev.Amount, "currency", ev.Currency, "outcome", res.Outcome)
	}
	return res, err
}

// signatureTime reads the t= timestamp of a Stripe-Signature header.
func signatureTime(header string) (time.Time, bool) {
	for _, part := range strings.Split(header, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "t="); ok {
			sec, err := strconv.ParseInt(v, 10, 64)
			return time.Unix(sec, 0), err == nil
		}
	}
	return time.Time{}, false
}

// signatureNow is the clock signature timestamps are checked against:
// Stripe's clock is the real one, whatever REMIT_NOW pins, as in stripe-go.
func (g *Gateway) signatureNow() time.Time {
	if g.cfg.SignatureClock != nil {
		return g.cfg.SignatureClock()
	}
	return time.Now()
}

// signatureError says what is wrong with a Stripe-Signature header.
func signatureError(err error) error {
	msg := "Stripe-Signature does not match the body and the signing secret"
	switch {
	case errors.Is(err, webhook.ErrNotSigned):
		msg = "Stripe-Signature header is missing"
	case errors.Is(err, webhook.ErrInvalidHeader):
		msg = "Stripe-Signature header is malformed"
	case errors.Is(err, webhook.ErrTooOld):
		msg = "Stripe-Signature timestamp is more than 300 seconds old"
	}
	return &domain.Error{Code: domain.EBADSIGNATURE, Kind: domain.EINVALID, Message: msg}
}

// rawEvent is the envelope of every Stripe event, in every API version.
type rawEvent struct {
	ID         string `json:"id"`
	Object     string `json:"object"`
	Type       string `json:"type"`
	APIVersion string `json:"api_version"`
	Created    int64  `json:"created"`
	Data       struct {
		Object json.RawMessage `json:"object"`
	} `json:"data"`
}

// rawObject is the union of the fields Remit reads from a Checkout Session,
// a PaymentIntent, a Charge or a Dispute. An expandable field (payment_intent,
// charge) may be an id or an object, so it stays raw.
type rawObject struct {
	ID             string            `json:"id"`
	Object         string            `json:"object"`
	Amount         int64             `json:"amount"`
	AmountReceived int64             `json:"amount_received"`
	AmountTotal    int64             `json:"amount_total"`
	AmountRefunded int64             `json:"amount_refunded"`
	Currency       string            `json:"currency"`
	Status         string            `json:"status"`
	PaymentStatus  string            `json:"payment_status"`
	Metadata       map[string]string `json:"metadata"`
	PaymentIntent  json.RawMessage   `json:"payment_intent"`
	Charge         json.RawMessage   `json:"charge"`
	Refunds        *struct {
		Data []struct {
			ID     string `json:"id"`
			Amount int64  `json:"amount"`
			Status string `json:"status"`
		} `json:"data"`
	} `json:"refunds"`
}

// HandledEvents are the event types Remit acts on; others are acknowledged
// and not stored.
var HandledEvents = map[string]bool{
	"checkout.session.completed":               true,
	"checkout.session.async_payment_succeeded": true,
	"checkout.session.async_payment_failed":    true,
	"payment_intent.succeeded":                 true,
	"payment_intent.processing":                true,
	"payment_intent.payment_failed":            true,
	"payment_intent.canceled":                  true,
	"charge.refunded":                          true,
	"charge.dispute.created":                   true,
	"charge.dispute.closed":                    true,
}

// DecodeEvent reads a (verified) webhook body. It returns nil for an event
// type Remit does not act on, and EINVALID for a body that is not a Stripe
// event.
func DecodeEvent(payload []byte) (*domain.StripeEvent, error) {
	var raw rawEvent
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, domain.Errorf(domain.EINVALID, "malformed JSON: %s", jsonProblem(err))
	}
	if raw.ID == "" || raw.Type == "" || (raw.Object != "" && raw.Object != "event") {
		return nil, domain.Errorf(domain.EINVALID, "not a Stripe event: id and type are required")
	}
	if !HandledEvents[raw.Type] {
		return nil, nil
	}
	var obj rawObject
	if len(raw.Data.Object) == 0 || bytes.Equal(raw.Data.Object, []byte("null")) {
		return nil, domain.Errorf(domain.EINVALID, "event %s has no data.object", raw.ID)
	}
	if err := json.Unmarshal(raw.Data.Object, &obj); err != nil {
		return nil, domain.Errorf(domain.EINVALID, "malformed data.object: %s", jsonProblem(err))
	}
	ev := &domain.StripeEvent{ID: raw.ID, Type: raw.Type, APIVersion: raw.APIVersion, Created: time.Unix(raw.Created, 0).UTC(),
		Payload: payload, InvoiceID: obj.Metadata[MetaInvoiceID], Currency: strings.ToUpper(obj.Currency)}
	switch {
	case strings.HasPrefix(raw.Type, "checkout.session."):
		ev.IntentID, ev.Amount = idOf(obj.PaymentIntent), obj.AmountTotal
		switch {
		case raw.Type == "checkout.session.async_payment_failed":
			ev.Status = domain.IntentFailed
		case raw.Type == "checkout.session.async_payment_succeeded" || obj.PaymentStatus == "paid":
			ev.Status = domain.IntentSucceeded
		case obj.PaymentStatus == "unpaid":
			// Completed with a delayed method (SEPA, ACH): the money is on its way.
			ev.Status = domain.IntentProcessing
		}
	case strings.HasPrefix(raw.Type, "payment_intent."):
		ev.IntentID, ev.Amount = obj.ID, obj.AmountReceived
		switch raw.Type {
		case "payment_intent.succeeded":
			ev.Status = domain.IntentSucceeded
			if ev.Amount == 0 {
				ev.Amount = obj.Amount
			}
		case "payment_intent.processing":
			ev.Status = domain.IntentProcessing
		case "payment_intent.payment_failed":
			ev.Status = domain.IntentFailed
		case "payment_intent.canceled":
			ev.Status = domain.IntentCanceled
		}
	case raw.Type == "charge.refunded":
		ev.IntentID, ev.ChargeID, ev.AmountRefunded = idOf(obj.PaymentIntent), obj.ID, obj.AmountRefunded
		if obj.Refunds != nil {
			for _, r := range obj.Refunds.Data {
				if r.Status != "failed" && r.Status != "canceled" {
					ev.Refunds = append(ev.Refunds, domain.StripeRefund{ID: r.ID, Amount: r.Amount})
				}
			}
		}
	case strings.HasPrefix(raw.Type, "charge.dispute."):
		ev.IntentID, ev.ChargeID, ev.DisputeID, ev.DisputeAmount = idOf(obj.PaymentIntent), idOf(obj.Charge), obj.ID, obj.Amount
		ev.DisputeStatus = domain.DisputeOpen
		if raw.Type == "charge.dispute.closed" {
			switch obj.Status {
			case "won", "lost":
				ev.DisputeStatus = obj.Status
			default:
				ev.DisputeStatus = domain.DisputeClosed
			}
		}
	}
	return ev, nil
}

// idOf reads an expandable field: "pi_123", or an object with an id.
func idOf(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var id string
	if json.Unmarshal(raw, &id) == nil {
		return id
	}
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.ID
	}
	return ""
}

// jsonProblem describes a decoding error without echoing the body.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "syntax error at byte " + strconv.FormatInt(syn.Offset, 10)
	case errors.As(err, &typ):
		return typ.Field + " has the wrong type"
	}
	return "unreadable"
}
