package store_test

import (
	"context"
	"testing"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/internal/testdb"
	"github.com/remit/remit/store"
)

func TestLinks(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			db := MustOpenDB(t, d)
			key := []byte("0123456789abcdef0123456789abcdef")
			links := store.NewLinkService(db, key)

			first, err := links.LinkTokens(ctx, domain.LinkInvoice, []string{"inv_a", "inv_b"})
			if err != nil {
				t.Fatal(err)
			}
			if len(first) != 2 || len(first["inv_a"]) != 43 || first["inv_a"] == first["inv_b"] {
				t.Fatalf("tokens %v", first)
			}
			again, err := links.LinkTokens(ctx, domain.LinkInvoice, []string{"inv_a", "inv_b"})
			if err != nil || again["inv_a"] != first["inv_a"] || again["inv_b"] != first["inv_b"] {
				t.Fatalf("a second call gave %v (%v), want the same tokens %v", again, err, first)
			}
			// The database keeps only the hash, never the token.
			var stored int64
			if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM links WHERE token_hash = $1`, domain.LinkTokenHash(first["inv_a"])).Scan(&stored); err != nil || stored != 1 {
				t.Fatalf("rows with the token's hash: %d, %v", stored, err)
			}
			if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM links WHERE token_hash = $1 OR nonce = $1`, first["inv_a"]).Scan(&stored); err != nil || stored != 0 {
				t.Fatalf("rows holding the token itself: %d, %v", stored, err)
			}

			if id, err := links.ResolveLink(ctx, domain.LinkInvoice, first["inv_a"]); err != nil || id != "inv_a" {
				t.Fatalf("resolve: %q, %v", id, err)
			}
			if _, err := links.ResolveLink(ctx, domain.LinkClient, first["inv_a"]); domain.ErrorCode(err) != domain.ENOTFOUND {
				t.Fatalf("an invoice token as a client token: %v, want not_found", err)
			}
			rotated, err := links.RotateLink(ctx, domain.LinkInvoice, "inv_a")
			if err != nil || rotated == first["inv_a"] {
				t.Fatalf("rotate: %q, %v", rotated, err)
			}
			if _, err := links.ResolveLink(ctx, domain.LinkInvoice, first["inv_a"]); domain.ErrorCode(err) != domain.ENOTFOUND {
				t.Fatalf("the old token after rotation: %v, want not_found", err)
			}
			if id, err := links.ResolveLink(ctx, domain.LinkInvoice, rotated); err != nil || id != "inv_a" {
				t.Fatalf("the new token: %q, %v", id, err)
			}
			if now, _ := links.LinkTokens(ctx, domain.LinkInvoice, []string{"inv_a"}); now["inv_a"] != rotated {
				t.Fatalf("the link after rotation is %q, want %q", now["inv_a"], rotated)
			}
			// Another key derives other tokens from the same rows.
			other := store.NewLinkService(db, []byte("another key another key another k"))
			if got, _ := other.LinkTokens(ctx, domain.LinkInvoice, []string{"inv_b"}); got["inv_b"] == first["inv_b"] {
				t.Fatal("the token does not depend on the key")
			}
		})
	}
}

// TestRevokeLink: a revoked link resolves nowhere and is not made again by
// LinkTokens; revoking twice records one audit event; rotation brings a
// link back; a link never made can be revoked too.
func TestRevokeLink(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		links := store.NewLinkService(db, []byte("0123456789abcdef0123456789abcdef"))
		c := newClient("Revoked GmbH")
		if err := store.NewClientService(db).CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		inv, err := store.NewInvoiceService(db).CreateInvoice(ctx, domain.InvoiceDraft{ClientID: c.ID, Issue: true, IssueDate: domain.NewDate(2026, 1, 10),
			Lines: []domain.LineInput{{Description: "Work", Quantity: "1", UnitAmount: 10000}}})
		if err != nil {
			t.Fatal(err)
		}
		first, err := links.LinkTokens(ctx, domain.LinkInvoice, []string{inv.ID})
		if err != nil || first[inv.ID] == "" {
			t.Fatalf("tokens %v, %v", first, err)
		}
		events := func(typ string) int64 {
			var n int64
			if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM events WHERE type = $1`, typ).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for range 2 {
			if err := links.RevokeLink(ctx, domain.LinkInvoice, inv.ID); err != nil {
				t.Fatalf("revoke: %v", err)
			}
		}
		if n := events(domain.EventInvoiceLinkRevoked); n != 1 {
			t.Fatalf("%d invoice.link_revoked events after two revocations, want 1", n)
		}
		if _, err := links.ResolveLink(ctx, domain.LinkInvoice, first[inv.ID]); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Fatalf("the revoked token: %v, want not_found", err)
		}
		var stored int64
		if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM links WHERE token_hash = $1`, domain.LinkTokenHash(first[inv.ID])).Scan(&stored); err != nil || stored != 0 {
			t.Fatalf("rows still holding the revoked token's hash: %d, %v", stored, err)
		}
		if got, err := links.LinkTokens(ctx, domain.LinkInvoice, []string{inv.ID}); err != nil || len(got) != 0 {
			t.Fatalf("tokens of a revoked link: %v, %v; want none", got, err)
		}
		rotated, err := links.RotateLink(ctx, domain.LinkInvoice, inv.ID)
		if err != nil || rotated == first[inv.ID] {
			t.Fatalf("rotate after revoke: %q, %v", rotated, err)
		}
		if id, err := links.ResolveLink(ctx, domain.LinkInvoice, rotated); err != nil || id != inv.ID {
			t.Fatalf("the rotated token: %q, %v", id, err)
		}
		if got, _ := links.LinkTokens(ctx, domain.LinkInvoice, []string{inv.ID}); got[inv.ID] != rotated {
			t.Fatalf("tokens after rotation %v, want %q", got, rotated)
		}
		// A second revocation after the rotation is a change again.
		if err := links.RevokeLink(ctx, domain.LinkInvoice, inv.ID); err != nil || events(domain.EventInvoiceLinkRevoked) != 2 {
			t.Fatalf("revoke after rotation: %v, %d events", err, events(domain.EventInvoiceLinkRevoked))
		}

		// The client's link, never made: revoking it keeps LinkTokens from making one.
		if err := links.RevokeLink(ctx, domain.LinkClient, c.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := links.LinkTokens(ctx, domain.LinkClient, []string{c.ID}); err != nil || len(got) != 0 {
			t.Fatalf("client tokens after revoke: %v, %v", got, err)
		}
		if n := events(domain.EventClientLinkRevoked); n != 1 {
			t.Fatalf("%d client.link_revoked events, want 1", n)
		}
		for _, c := range []struct{ kind, id string }{{domain.LinkInvoice, "inv_nope"}, {domain.LinkClient, "cli_nope"}} {
			if err := links.RevokeLink(ctx, c.kind, c.id); domain.ErrorCode(err) != domain.ENOTFOUND {
				t.Errorf("revoke %s %s: %v, want not_found", c.kind, c.id, err)
			}
		}
	})
}
