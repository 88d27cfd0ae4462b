package domain_test

import (
	"math"
	"math/big"
	"testing"

	"github.com/remit/remit/domain"
)

func TestCurrencyExponent(t *testing.T) {
	tests := []struct {
		code string
		exp  int
		ok   bool
	}{
		{"EUR", 2, true}, {"USD", 2, true}, {"GBP", 2, true}, {"RUB", 2, true}, {"CHF", 2, true},
		{"JPY", 0, true}, {"KRW", 0, true}, {"VND", 0, true}, {"CLP", 0, true}, {"ISK", 0, true},
		{"UGX", 0, true}, {"XAF", 0, true}, {"XOF", 0, true}, {"XPF", 0, true}, {"PYG", 0, true},
		{"KWD", 3, true}, {"BHD", 3, true}, {"JOD", 3, true}, {"OMR", 3, true}, {"TND", 3, true},
		{"LYD", 3, true}, {"IQD", 3, true},
		{"CLF", 4, true}, {"XCG", 2, true}, {"ZWG", 2, true}, {"SLE", 2, true},
		{"eur", 0, false}, {"", 0, false}, {"XAU", 0, false}, {"XXX", 0, false}, {"EURO", 0, false},
		{"HRK", 0, false}, // replaced by the euro
	}
	for _, tt := range tests {
		exp, ok := domain.CurrencyExponent(tt.code)
		if exp != tt.exp || ok != tt.ok {
			t.Errorf("CurrencyExponent(%q) = %d, %v; want %d, %v", tt.code, exp, ok, tt.exp, tt.ok)
		}
		if domain.ValidCurrency(tt.code) != tt.ok {
			t.Errorf("ValidCurrency(%q) = %v", tt.code, !tt.ok)
		}
	}
}

func TestRoundHalfAway(t *testing.T) {
	tests := []struct {
		num, den int64
		want     int64
	}{
		{1, 2, 1}, {-1, 2, -1}, // 0.005 EUR = half a cent
		{499999, 1000000, 0}, {-499999, 1000000, 0},
		{500001, 1000000, 1},
		{3, 2, 2}, {5, 2, 3}, {-5, 2, -3}, // not banker's rounding
		{1005, 10, 101}, {-1005, 10, -101}, // 1.005 -> 1.01
		{10049, 100, 100}, {-10049, 100, -100},
		{336000, 365, 921}, {0, 1, 0}, {7, 1, 7},
	}
	for _, tt := range tests {
		got, err := domain.RoundHalfAway(big.NewRat(tt.num, tt.den))
		if err != nil || got != tt.want {
			t.Errorf("RoundHalfAway(%d/%d) = %d, %v; want %d", tt.num, tt.den, got, err, tt.want)
		}
	}
	maxPlus := new(big.Rat).Add(new(big.Rat).SetInt64(math.MaxInt64), big.NewRat(2, 5))
	if got, err := domain.RoundHalfAway(maxPlus); err != nil || got != math.MaxInt64 {
		t.Errorf("MaxInt64 + 0.4 = %d, %v", got, err)
	}
	minMinus := new(big.Rat).Sub(new(big.Rat).SetInt64(math.MinInt64), big.NewRat(2, 5))
	if got, err := domain.RoundHalfAway(minMinus); err != nil || got != math.MinInt64 {
		t.Errorf("MinInt64 - 0.4 = %d, %v", got, err)
	}
	for _, r := range []*big.Rat{
		new(big.Rat).Add(new(big.Rat).SetInt64(math.MaxInt64), big.NewRat(1, 2)),
		new(big.Rat).Sub(new(big.Rat).SetInt64(math.MinInt64), big.NewRat(1, 2)),
	} {
		if _, err := domain.RoundHalfAway(r); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("RoundHalfAway(%s) err = %v, want invalid", r.FloatString(1), err)
		}
	}
}

func TestParseRate(t *testing.T) {
	good := map[string]string{"12": "12", "0.1": "0.1", "10.15": "10.15", "1.50": "1.5", "0": "0", "0.0000000001": "0.0000000001", "007": "7"}
	for in, want := range good {
		r, err := domain.ParseRate(in)
		if err != nil || domain.FormatRate(r) != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %s", in, r, err, want)
		}
	}
	for _, in := range []string{"", "-1", "+1", "1e2", "1.", ".5", "1.2.3", " 1", "1 ", "12%", "0x10", "١٢", "NaN", "Inf",
		"0.00000000001", "1234567890123456789012345"} {
		if r, err := domain.ParseRate(in); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("ParseRate(%q) = %v, %v; want invalid", in, r, err)
		}
	}
}

func TestParseQuantity(t *testing.T) {
	good := map[string]*big.Rat{"1": big.NewRat(1, 1), "2.5": big.NewRat(5, 2), "0.125": big.NewRat(1, 8), "0.001": big.NewRat(1, 1000)}
	for in, want := range good {
		if q, err := domain.ParseQuantity(in); err != nil || q.Cmp(want) != 0 {
			t.Errorf("ParseQuantity(%q) = %v, %v; want %v", in, q, err, want)
		}
	}
	for _, in := range []string{"0", "0.000", "-1", "1.2345", "", "1e3", "abc", "1234567890123"} {
		if q, err := domain.ParseQuantity(in); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("ParseQuantity(%q) = %v, %v; want invalid", in, q, err)
		}
	}
}

func TestFormatRate(t *testing.T) {
	tests := []struct {
		r    *big.Rat
		want string
	}{
		{big.NewRat(12, 1), "12"}, {big.NewRat(1015, 100), "10.15"}, {big.NewRat(3, 2), "1.5"},
		{big.NewRat(0, 1), "0"}, {big.NewRat(-1, 2), "-0.5"}, {big.NewRat(1, 3), "0.3333333333"}, {nil, ""},
	}
	for _, tt := range tests {
		if got := domain.FormatRate(tt.r); got != tt.want {
			t.Errorf("FormatRate(%v) = %q, want %q", tt.r, got, tt.want)
		}
	}
}

func TestFormatAmount(t *testing.T) {
	tests := []struct {
		minor    int64
		currency string
		amount   string
		money    string
		symbol   string
	}{
		{100000, "EUR", "1,000.00", "1,000.00 EUR", "€1,000.00"},
		{5, "EUR", "0.05", "0.05 EUR", "€0.05"},
		{-500, "GBP", "-5.00", "-5.00 GBP", "-£5.00"},
		{1000, "JPY", "1,000", "1,000 JPY", "¥1,000"},
		{0, "JPY", "0", "0 JPY", "¥0"},
		{-1234567, "KWD", "-1,234.567", "-1,234.567 KWD", "-1,234.567 KWD"},
		{123456789, "USD", "1,234,567.89", "1,234,567.89 USD", "$1,234,567.89"},
		{10000000, "RUB", "100,000.00", "100,000.00 RUB", "₽100,000.00"},
		{99, "CHF", "0.99", "0.99 CHF", "0.99 CHF"},
		{math.MinInt64, "EUR", "-92,233,720,368,547,758.08", "-92,233,720,368,547,758.08 EUR", "-€92,233,720,368,547,758.08"},
	}
	for _, tt := range tests {
		if got := domain.FormatAmount(tt.minor, tt.currency); got != tt.amount {
			t.Errorf("FormatAmount(%d, %s) = %q, want %q", tt.minor, tt.currency, got, tt.amount)
		}
		if got := domain.FormatMoney(tt.minor, tt.currency); got != tt.money {
			t.Errorf("FormatMoney(%d, %s) = %q, want %q", tt.minor, tt.currency, got, tt.money)
		}
		if got := domain.FormatMoneySymbol(tt.minor, tt.currency); got != tt.symbol {
			t.Errorf("FormatMoneySymbol(%d, %s) = %q, want %q", tt.minor, tt.currency, got, tt.symbol)
		}
	}
	symbols := map[string]string{"EUR": "€", "GBP": "£", "USD": "$", "RUB": "₽", "JPY": "¥", "CHF": "CHF", "CAD": "CAD"}
	for code, want := range symbols {
		if got := domain.CurrencySymbol(code); got != want {
			t.Errorf("CurrencySymbol(%s) = %q, want %q", code, got, want)
		}
	}
}

func TestLineAmounts(t *testing.T) {
	tests := []struct {
		name      string
		quantity  string
		unit      int64
		taxRate   string
		amount    int64
		tax       int64
		wantError bool
	}{
		{"plain EUR", "2", 50000, "20", 100000, 20000, false},
		{"hours with decimals", "1.5", 3333, "19", 5000, 950, false}, // 4999.5 -> 5000; 950
		{"tax rounds half away", "1", 2525, "10", 2525, 253, false},  // 252.5 -> 253
		{"no tax rate", "3", 100, "", 300, 0, false},
		{"JPY zero decimals", "1.5", 333, "10", 500, 50, false},          // ¥499.5 -> ¥500
		{"KWD three decimals", "2.5", 1001, "5", 2503, 125, false},       // 2502.5 fils -> 2503; 125.15 -> 125
		{"negative discount line", "1", -1005, "10", -1005, -101, false}, // -100.5 -> -101
		{"three decimal quantity", "0.125", 1000, "0", 125, 0, false},
		{"amount overflows int64", "2", math.MaxInt64, "0", 0, 0, true},
		{"tax overflows int64", "1", math.MaxInt64, "200", 0, 0, true},
		{"bad quantity", "1.2345", 100, "0", 0, 0, true},
		{"zero quantity", "0", 100, "0", 0, 0, true},
		{"bad tax rate", "1", 100, "-5", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			amount, tax, err := domain.LineAmounts(tt.quantity, tt.unit, tt.taxRate)
			if tt.wantError {
				if domain.ErrorCode(err) != domain.EINVALID {
					t.Errorf("err = %v, want invalid", err)
				}
				return
			}
			if err != nil || amount != tt.amount || tax != tt.tax {
				t.Errorf("LineAmounts = %d, %d, %v; want %d, %d", amount, tax, err, tt.amount, tt.tax)
			}
		})
	}
}
