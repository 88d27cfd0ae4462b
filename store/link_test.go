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
