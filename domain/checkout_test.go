package domain_test

import (
	"testing"
	"time"

	"github.com/remit/remit/domain"
)

func TestCheckoutWindow(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04:05", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		name   string
		now    string
		loc    *time.Location
		day    string
		closes string
	}{
		{"midday: today's payoff, closes 23:55 local", "2026-03-01 12:00:00", berlin, "2026-03-01", "2026-03-01 22:55:00"},
		{"35 minutes before the close: still today", "2026-03-01 22:20:00", berlin, "2026-03-01", "2026-03-01 22:55:00"},
		{"a second later: tomorrow's, 23 h 55 min on", "2026-03-01 22:20:01", berlin, "2026-03-02", "2026-03-02 22:15:00"},
		{"after the close: tomorrow's", "2026-03-01 22:59:30", berlin, "2026-03-02", "2026-03-02 22:54:00"},
		{"a 23-hour next day (clocks go forward): its own close", "2026-03-28 22:30:00", berlin, "2026-03-29", "2026-03-29 21:55:00"},
		{"a 25-hour day (clocks go back)", "2026-10-25 12:00:00", berlin, "2026-10-25", "2026-10-25 22:55:00"},
		{"into the next month, UTC", "2026-01-31 23:40:00", time.UTC, "2026-02-01", "2026-02-01 23:35:00"},
		{"no zone is UTC", "2026-01-31 10:00:00", nil, "2026-01-31", "2026-01-31 23:55:00"},
	} {
		day, closes := domain.CheckoutWindow(utc(c.now), c.loc)
		if day.String() != c.day || !closes.Equal(utc(c.closes)) {
			t.Errorf("%s: %s, closes %s; want %s, closes %s", c.name, day, closes.UTC().Format(time.DateTime), c.day, c.closes)
		}
	}

	// Every minute of two days with a clock change: the session is one
	// Stripe takes, and closes within the day it quotes, before its end.
	for _, start := range []string{"2026-03-28 20:00:00", "2026-10-24 20:00:00"} {
		from := utc(start)
		for now := from; now.Before(from.Add(48 * time.Hour)); now = now.Add(time.Minute + 7*time.Second) {
			day, closes := domain.CheckoutWindow(now, berlin)
			life := closes.Sub(now)
			if life < 30*time.Minute || life > 24*time.Hour {
				t.Fatalf("at %s: a session of %s", now, life)
			}
			if domain.DateOf(closes, berlin) != day || domain.DateOf(closes.Add(domain.CheckoutDayMargin-time.Second), berlin) != day {
				t.Fatalf("at %s: quotes %s but closes %s", now, day, closes.In(berlin))
			}
			if today := domain.DateOf(now, berlin); day != today && day != today.AddDays(1) {
				t.Fatalf("at %s: quotes %s", now, day)
			}
		}
	}
}
