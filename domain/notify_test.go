package domain_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/remit/remit/domain"
)

func TestWebhookEndpointValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		url    string
		events []string
		bad    []string // the fields named, sorted
	}{
		{"https with a path", "https://hooks.example.com/remit?team=7", []string{"invoice.paid", "client.suspended"}, nil},
		{"http to an address and port", "http://10.0.0.7:8080/hook", []string{"*"}, nil},
		{"no URL", "", []string{"*"}, []string{"url"}},
		{"another scheme", "ftp://example.com/x", []string{"*"}, []string{"url"}},
		{"no host", "https:///x", []string{"*"}, []string{"url"}},
		{"opaque", "https:example.com", []string{"*"}, []string{"url"}},
		{"not a URL", "hooks example com", []string{"*"}, []string{"url"}},
		{"credentials", "https://u:p@example.com/", []string{"*"}, []string{"url"}},
		{"fragment", "https://example.com/#x", []string{"*"}, []string{"url"}},
		{"too long", "https://example.com/" + strings.Repeat("a", 2048), []string{"*"}, []string{"url"}},
		{"no events", "https://example.com", nil, []string{"enabled_events"}},
		{"an unknown type", "https://example.com", []string{"invoice.paid", "invoice.exploded"}, []string{"enabled_events[1]"}},
		{"a repeated type", "https://example.com", []string{"invoice.paid", "invoice.paid"}, []string{"enabled_events[1]"}},
		{"* with others", "https://example.com", []string{"*", "invoice.paid"}, []string{"enabled_events"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := domain.WebhookEndpoint{URL: tc.url, EnabledEvents: tc.events}
			if got := fieldsOf(e.Validate()); !reflect.DeepEqual(got, tc.bad) {
				t.Fatalf("fields %v, want %v", got, tc.bad)
			}
		})
	}
}

func TestWebhookEndpointWants(t *testing.T) {
	some := domain.WebhookEndpoint{Enabled: true, EnabledEvents: []string{"client.suspended"}}
	all := domain.WebhookEndpoint{Enabled: true, EnabledEvents: []string{"*"}}
	off := domain.WebhookEndpoint{Enabled: false, EnabledEvents: []string{"*"}}
	if !some.Wants("client.suspended") || some.Wants("client.reinstated") || !all.Wants("milestone.paid") || off.Wants("milestone.paid") {
		t.Fatal("Wants disagrees with the filter")
	}
}

func TestValidateRatePoints(t *testing.T) {
	p := func(date, rate string) domain.RatePoint {
		var d domain.Date
		if date != "" {
			d = domain.MustParseDate(date)
		}
		return domain.RatePoint{EffectiveFrom: d, Rate: rate}
	}
	for _, tc := range []struct {
		name   string
		points []domain.RatePoint
		bad    []string
	}{
		{"good rows, a negative rate", []domain.RatePoint{p("2014-06-11", "-0.10"), p("2025-06-11", "2.15"), p("2022-02-28", "20")}, nil},
		{"the largest rate", []domain.RatePoint{p("2025-01-01", "1000"), p("2025-02-01", "-1000")}, nil},
		{"no rows", nil, []string{"rates"}},
		{"abc", []domain.RatePoint{p("2025-01-01", "2"), p("2025-02-01", "abc")}, []string{"rates[1].rate"}},
		{"an empty rate", []domain.RatePoint{p("2025-01-01", "")}, []string{"rates[0].rate"}},
		{"an exponent", []domain.RatePoint{p("2025-01-01", "2e1")}, []string{"rates[0].rate"}},
		{"too large", []domain.RatePoint{p("2025-01-01", "1000.01")}, []string{"rates[0].rate"}},
		{"no date", []domain.RatePoint{p("", "2")}, []string{"rates[0].effective_from"}},
		{"a repeated date", []domain.RatePoint{p("2025-01-01", "2"), p("2025-01-01", "3")}, []string{"rates[1].effective_from"}},
		{"two bad rows", []domain.RatePoint{p("", "x"), p("2025-01-01", "--1")}, []string{"rates[0].effective_from", "rates[0].rate", "rates[1].rate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fieldsOf(domain.ValidateRatePoints(tc.points)); !reflect.DeepEqual(got, tc.bad) {
				t.Fatalf("fields %v, want %v", got, tc.bad)
			}
		})
	}
}

func TestCheckSeries(t *testing.T) {
	for _, s := range []string{"ECB_MRO", "BOE_BASE", "CBR_KEY"} {
		if err := domain.CheckSeries(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	err := domain.CheckSeries("ecb_mro")
	if domain.ErrorCode(err) != domain.ENOTFOUND || !strings.Contains(err.Error(), "use ECB_MRO, BOE_BASE or CBR_KEY") {
		t.Fatalf("unknown series: %v", err)
	}
}

// fieldsOf returns the sorted fields an EINVALID error names; nil for nil.
func fieldsOf(err error) []string {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.EINVALID {
		return []string{"not EINVALID: " + err.Error()}
	}
	var out []string
	for f := range de.Fields {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}
