package domain_test

import (
	"encoding/json"
	"math/big"
	"testing"

	"github.com/remit/remit/domain"
)

// TestInterestSpanJSON pins a breakdown span's API form: snake_case keys,
// the exact amount as a fraction of minor units in lowest terms and the
// rounded amount beside it; and it reads back, as does the older stored
// form with Go field names.
func TestInterestSpanJSON(t *testing.T) {
	span := domain.InterestSpan{
		From: domain.NewDate(2026, 2, 1), To: domain.NewDate(2026, 2, 28), Days: 28, Base: 100000,
		AnnualRate: "12", DayCount: "act/365", Amount: big.NewRat(67200, 73),
	}
	b, err := json.Marshal(span)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"from":"2026-02-01","to":"2026-02-28","days":28,"base":100000,"annual_rate":"12","day_count":"act/365",` +
		`"amount_exact":"67200/73","amount_minor":921}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	whole := domain.InterestSpan{From: span.From, To: span.To, Days: 1, Base: 365, DailyRate: "0.1", Amount: big.NewRat(73, 2)}
	if b, _ := json.Marshal(whole); string(b) != `{"from":"2026-02-01","to":"2026-02-28","days":1,"base":365,"daily_rate":"0.1",`+
		`"amount_exact":"73/2","amount_minor":37}` {
		t.Fatalf("got %s", b)
	}

	for name, text := range map[string]string{
		"api form": want,
		"stored before": `{"From":"2026-02-01","To":"2026-02-28","Days":28,"Base":100000,"AnnualRate":"12","DailyRate":"",` +
			`"DayCount":"act/365","Amount":"67200/73"}`,
	} {
		var got domain.InterestSpan
		if err := json.Unmarshal([]byte(text), &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.From != span.From || got.To != span.To || got.Days != 28 || got.Base != 100000 || got.AnnualRate != "12" ||
			got.DailyRate != "" || got.DayCount != "act/365" || got.Amount == nil || got.Amount.Cmp(span.Amount) != 0 {
			t.Fatalf("%s: read back %+v", name, got)
		}
	}
}
