package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/internal/ledgercheck"
	"github.com/remit/remit/internal/testdb"
)

// openIssuing opens and migrates a fresh PostgreSQL database with a client
// and a trigger that fails, as a constraint would, the insert of an
// invoice whose memo is "fail": a statement of a group that fails for its
// own reason. It returns the database's URL too.
func openIssuing(t *testing.T) (*DB, string, string) {
	t.Helper()
	ctx := context.Background()
	url := testdb.PostgresURL(t)
	db, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) }
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := &domain.Client{Name: "Grouped", Email: "billing@example.com", Timezone: "Europe/Berlin", Currency: "EUR",
		Communication: domain.Communication{Channel: "email", ResponseTimeHours: 24},
		Relationship:  domain.RelationshipStandard, Status: domain.ClientActive}
	if err := NewClientService(db).CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().Exec(`CREATE FUNCTION fail_marked() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.memo = 'fail' THEN RAISE EXCEPTION 'marked to fail' USING ERRCODE = '23505'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER fail_marked BEFORE INSERT ON invoices FOR EACH ROW EXECUTE FUNCTION fail_marked()`); err != nil {
		t.Fatal(err)
	}
	return db, url, c.ID
}

func issuingDraft(clientID, memo string) domain.InvoiceDraft {
	return domain.InvoiceDraft{ClientID: clientID, Issue: true, Memo: memo,
		Lines: []domain.LineInput{{Description: "Work", Quantity: "1", UnitAmount: 10000, TaxRate: "20"}}}
}

// checkGapless checks that the invoices of INV-2026 are numbered 1 to n,
// each once, with the counter at n, and that the numbers acknowledged are
// theirs.
func checkGapless(t *testing.T, db *DB, acked map[string]string) {
	t.Helper()
	found, err := ledgercheck.Series(db.SQL(), "INV-2026")
	if err != nil {
		t.Fatal(err)
	}
	for id, n := range acked {
		if found[id] != n {
			t.Errorf("acknowledged %s as %s, stored %q", id, n, found[id])
		}
	}
}

// TestGroupIssuing: invoices issued together on PostgreSQL are numbered
// in one transaction. While the counter row is held elsewhere, the issues
// that arrive queue and then go as one group; those whose insert fails get
// their own error and the others commit, gapless.
func TestGroupIssuing(t *testing.T) {
	ctx := context.Background()
	db, _, clientID := openIssuing(t)
	s := NewInvoiceService(db)
	first, err := s.CreateInvoice(ctx, issuingDraft(clientID, ""))
	if err != nil || first.Number != "INV-2026-0001" {
		t.Fatalf("first: %+v %v", first, err)
	}
	acked := map[string]string{first.ID: first.Number}

	hold, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hold.Exec("SELECT 1 FROM invoice_counters WHERE series = 'INV-2026' FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		memo string
		inv  *domain.Invoice
		err  error
	}
	results := make(chan outcome, 16)
	issue := func(memo string) {
		inv, err := s.CreateInvoice(ctx, issuingDraft(clientID, memo))
		results <- outcome{memo, inv, err}
	}
	go issue("") // a group of one, waiting for the row
	waitFor(t, "the first group waits for the counter row", func() bool {
		var n int
		err := db.SQL().QueryRow("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").Scan(&n)
		return err == nil && n == 1
	})
	memos := []string{"", "fail", "", "", "fail", "", "", "", "fail", "", "", "fail"}
	for _, m := range memos {
		go issue(m)
	}
	waitFor(t, "the next issues queue behind the first group", func() bool { return len(db.issuer.jobs) == len(memos) })
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	var numbers []string
	for range 1 + len(memos) {
		o := <-results
		switch {
		case o.memo == "fail" && domain.ErrorCode(o.err) != domain.ECONFLICT:
			t.Errorf("a failing insert answered %v, want its own conflict", o.err)
		case o.memo == "" && o.err != nil:
			t.Errorf("an issue of the group failed with another's error: %v", o.err)
		case o.err == nil:
			acked[o.inv.ID] = o.inv.Number
			numbers = append(numbers, o.inv.Number)
		}
	}
	slices.Sort(numbers)
	if want := "[INV-2026-0002 INV-2026-0003 INV-2026-0004 INV-2026-0005 INV-2026-0006 INV-2026-0007 INV-2026-0008 INV-2026-0009 INV-2026-0010]"; fmt.Sprint(numbers) != want {
		t.Fatalf("numbers %v, want %s", numbers, want)
	}
	checkGapless(t, db, acked)
}

// TestGroupIssuingAcrossReplicas: three replicas on one PostgreSQL
// database issue at once, some inserts failing; every invoice acknowledged
// has the number it was told, and the numbers are gapless.
func TestGroupIssuingAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	db, url, clientID := openIssuing(t)
	replicas := []*DB{db}
	for range 2 {
		r, err := Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		r.Now = db.Now
		replicas = append(replicas, r)
	}
	var mu sync.Mutex
	acked := map[string]string{}
	var wg sync.WaitGroup
	for w := range 24 {
		wg.Go(func() {
			s := NewInvoiceService(replicas[w%len(replicas)])
			for i := range 15 {
				memo := ""
				if (w+i)%7 == 0 {
					memo = "fail"
				}
				inv, err := s.CreateInvoice(ctx, issuingDraft(clientID, memo))
				switch {
				case memo == "fail" && domain.ErrorCode(err) != domain.ECONFLICT:
					t.Errorf("a failing insert answered %v", err)
				case memo == "" && err != nil:
					t.Errorf("issue: %v", err)
				case err == nil:
					mu.Lock()
					acked[inv.ID] = inv.Number
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	checkGapless(t, db, acked)
	if len(acked) < 300 {
		t.Fatalf("%d invoices acknowledged", len(acked))
	}
}

// waitFor polls check until it holds, failing after a bound generous for a
// loaded machine; it asserts no duration.
func waitFor(t *testing.T, what string, check func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !check(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still not so after 20 s: %s", what)
		}
	}
}
