package payments_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/payments"
)

func TestStripeAmount(t *testing.T) {
	for _, c := range []struct {
		amount   int64
		currency string
		want     int64
		code     string
	}{
		{12345, "EUR", 12345, ""},
		{5000, "JPY", 5000, ""},   // zero-decimal: yen, as Remit stores them
		{1, "JPY", 1, ""},         // one yen is a valid Stripe amount
		{12345, "KWD", 12350, ""}, // 12.345 KWD: Stripe takes multiples of 10 fils
		{12340, "KWD", 12340, ""},
		{1, "BHD", 10, ""},
		{999, "USD", 999, ""},
		{100, "CLF", 0, domain.EINVALID}, // four decimals: not a Stripe currency
		{100, "XXX", 0, domain.EINVALID},
		{0, "EUR", 0, domain.EINVALID},
	} {
		got, err := payments.StripeAmount(c.amount, c.currency)
		if got != c.want || domain.ErrorCode(err) != c.code {
			t.Errorf("StripeAmount(%d, %s) = %d, %v; want %d, %q", c.amount, c.currency, got, err, c.want, c.code)
		}
	}
}

func TestDecodeEvent(t *testing.T) {
	created := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	wrap := func(typ, object string) []byte {
		return fmt.Appendf(nil, `{"id":"evt_1","object":"event","api_version":"2020-08-27","created":%d,"type":%q,"data":{"object":%s}}`, created.Unix(), typ, object)
	}
	for _, c := range []struct {
		name string
		body []byte
		want *domain.StripeEvent
	}{
		{"session paid", wrap("checkout.session.completed", `{"id":"cs_1","object":"checkout.session","payment_intent":"pi_1","amount_total":1099,"currency":"jpy","payment_status":"paid","metadata":{"remit_invoice_id":"inv_1"}}`),
			&domain.StripeEvent{IntentID: "pi_1", InvoiceID: "inv_1", Status: domain.IntentSucceeded, Amount: 1099, Currency: "JPY"}},
		{"session unpaid (delayed method)", wrap("checkout.session.completed", `{"id":"cs_1","payment_intent":{"id":"pi_1"},"amount_total":1099,"currency":"eur","payment_status":"unpaid","metadata":{}}`),
			&domain.StripeEvent{IntentID: "pi_1", Status: domain.IntentProcessing, Amount: 1099, Currency: "EUR"}},
		{"intent succeeded", wrap("payment_intent.succeeded", `{"id":"pi_2","object":"payment_intent","amount":5000,"amount_received":5000,"currency":"kwd","metadata":{"remit_invoice_id":"inv_2"}}`),
			&domain.StripeEvent{IntentID: "pi_2", InvoiceID: "inv_2", Status: domain.IntentSucceeded, Amount: 5000, Currency: "KWD"}},
		{"intent processing", wrap("payment_intent.processing", `{"id":"pi_2","amount":5000,"amount_received":0,"currency":"eur"}`),
			&domain.StripeEvent{IntentID: "pi_2", Status: domain.IntentProcessing, Currency: "EUR"}},
		{"intent failed", wrap("payment_intent.payment_failed", `{"id":"pi_2","amount":5000,"currency":"eur"}`),
			&domain.StripeEvent{IntentID: "pi_2", Status: domain.IntentFailed, Currency: "EUR"}},
		{"charge refunded, listing refunds", wrap("charge.refunded", `{"id":"ch_1","object":"charge","payment_intent":"pi_3","amount":5000,"amount_refunded":700,"currency":"eur",
			"refunds":{"object":"list","data":[{"id":"re_2","amount":200,"status":"succeeded"},{"id":"re_x","amount":50,"status":"failed"},{"id":"re_1","amount":500,"status":"succeeded"}]}}`),
			&domain.StripeEvent{IntentID: "pi_3", ChargeID: "ch_1", AmountRefunded: 700, Currency: "EUR",
				Refunds: []domain.StripeRefund{{ID: "re_2", Amount: 200}, {ID: "re_1", Amount: 500}}}},
		{"dispute created", wrap("charge.dispute.created", `{"id":"dp_1","object":"dispute","charge":"ch_1","payment_intent":"pi_3","amount":5000,"currency":"eur","status":"needs_response"}`),
			&domain.StripeEvent{IntentID: "pi_3", ChargeID: "ch_1", DisputeID: "dp_1", DisputeStatus: domain.DisputeOpen, DisputeAmount: 5000, Currency: "EUR"}},
		{"dispute lost", wrap("charge.dispute.closed", `{"id":"dp_1","charge":"ch_1","payment_intent":"pi_3","amount":5000,"currency":"eur","status":"lost"}`),
			&domain.StripeEvent{IntentID: "pi_3", ChargeID: "ch_1", DisputeID: "dp_1", DisputeStatus: domain.DisputeLost, DisputeAmount: 5000, Currency: "EUR"}},
		{"dispute warning closed", wrap("charge.dispute.closed", `{"id":"dp_1","charge":"ch_1","payment_intent":"pi_3","amount":5000,"currency":"eur","status":"warning_closed"}`),
			&domain.StripeEvent{IntentID: "pi_3", ChargeID: "ch_1", DisputeID: "dp_1", DisputeStatus: domain.DisputeClosed, DisputeAmount: 5000, Currency: "EUR"}},
		{"type not handled", wrap("customer.created", `{"id":"cus_1"}`), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := payments.DecodeEvent(c.body)
			if err != nil {
				t.Fatal(err)
			}
			if c.want != nil {
				var typ struct{ Type string }
				_ = json.Unmarshal(c.body, &typ)
				c.want.ID, c.want.Type, c.want.APIVersion, c.want.Created, c.want.Payload = "evt_1", typ.Type, "2020-08-27", created, c.body
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
	for _, bad := range []string{`{`, `[]`, `{"id":"evt_1"}`, `{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":null}}`,
		`{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"amount":"ten"}}}`} {
		if _, err := payments.DecodeEvent([]byte(bad)); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("DecodeEvent(%s): %v, want invalid", bad, err)
		}
	}
}
