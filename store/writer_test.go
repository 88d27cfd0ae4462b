package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
)

// TestGroupCommit queues transactions while the writer is busy, so that the
// writer runs them as one group, and checks that each keeps its own outcome:
// the ones that succeed commit, one that fails and one that panics are
// rolled back alone, and one whose caller gave up before its turn never runs.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "group.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.write.Exec("CREATE TABLE items (v TEXT PRIMARY KEY)").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// Each job writes an item and an audit event (which waits for the
	// group's end): a job rolled back must lose both.
	insert := func(v string) func(tx *gorm.DB) error {
		return func(tx *gorm.DB) error {
			if err := tx.Exec("INSERT INTO items (v) VALUES (?)", v).Error; err != nil {
				return err
			}
			return db.emit(ctx, tx, "test."+v, "cli_test", "", map[string]string{"v": v}, v == "e")
		}
	}

	// a holds the writer until the others are queued behind it.
	release, started := make(chan struct{}), make(chan struct{})
	results := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	run := func(name string, ctx context.Context, fn func(tx *gorm.DB) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					mu.Lock()
					results[name] = errors.New("panicked")
					mu.Unlock()
				}
			}()
			err := db.tx(ctx, fn)
			mu.Lock()
			results[name] = err
			mu.Unlock()
		}()
	}
	run("a", ctx, func(tx *gorm.DB) error {
		close(started)
		<-release
		return insert("a")(tx)
	})
	<-started
	failed := errors.New("c refuses")
	run("b", ctx, insert("b"))
	run("c", ctx, func(tx *gorm.DB) error {
		if err := insert("c")(tx); err != nil {
			return err
		}
		return failed
	})
	run("d", ctx, func(tx *gorm.DB) error {
		if err := insert("d")(tx); err != nil {
			return err
		}
		panic("d breaks")
	})
	run("e", ctx, insert("e"))
	fctx, cancel := context.WithCancel(ctx)
	run("f", fctx, insert("f"))
	for len(db.group.jobs) < 5 {
		time.Sleep(time.Millisecond) // waiting for the callers to queue, not timing anything
	}
	cancel()
	for {
		mu.Lock()
		_, done := results["f"]
		mu.Unlock()
		if done {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()

	want := map[string]error{"a": nil, "b": nil, "c": failed, "d": errors.New("panicked"), "e": nil, "f": context.Canceled}
	for name, w := range want {
		got := results[name]
		if (w == nil) != (got == nil) || (w != nil && got.Error() != w.Error()) {
			t.Errorf("%s: got %v, want %v", name, got, w)
		}
	}
	var rows []string
	if err := db.read.Raw("SELECT v FROM items ORDER BY v").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows, []string{"a", "b", "e"}) {
		t.Errorf("committed rows %v, want [a b e]", rows)
	}
	var events, outbox []string
	if err := db.read.Raw("SELECT type FROM events ORDER BY type").Scan(&events).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.read.Raw("SELECT type FROM outbox ORDER BY type").Scan(&outbox).Error; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(events, []string{"test.a", "test.b", "test.e"}) || !slices.Equal(outbox, []string{"test.e"}) {
		t.Errorf("events %v and outbox %v, want [test.a test.b test.e] and [test.e]", events, outbox)
	}
}

// TestPendingEventsFollowSavepoints: inside one request's transaction, a
// step that fails rolls back to its savepoint and takes its audit events
// with it, while the rest commits with theirs.
func TestPendingEventsFollowSavepoints(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "pending.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	err = db.WithinTx(ctx, func(ctx context.Context) error {
		if err := db.tx(ctx, func(tx *gorm.DB) error { return db.emit(ctx, tx, "kept", "cli_test", "", nil, true) }); err != nil {
			return err
		}
		if err := db.tx(ctx, func(tx *gorm.DB) error {
			if err := db.emit(ctx, tx, "dropped", "cli_test", "", nil, true); err != nil {
				return err
			}
			return refused
		}); !errors.Is(err, refused) {
			return fmt.Errorf("inner step: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var events, outbox []string
	if err := db.read.Raw("SELECT type FROM events").Scan(&events).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.read.Raw("SELECT type FROM outbox").Scan(&outbox).Error; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(events, []string{"kept"}) || !slices.Equal(outbox, []string{"kept"}) {
		t.Errorf("events %v, outbox %v; want [kept] in both", events, outbox)
	}
}

// TestCheckpointer checks the settings of the connections and that a
// checkpoint from the checkpointer's own connection copies the whole WAL back.
func TestCheckpointer(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "ckpt.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var auto, cache int64
	if err := db.write.Raw("PRAGMA wal_autocheckpoint").Scan(&auto).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.write.Raw("PRAGMA cache_size").Scan(&cache).Error; err != nil {
		t.Fatal(err)
	}
	if auto != walBackstopPages || cache != -sqliteWriterCacheKiB {
		t.Errorf("writer's wal_autocheckpoint %d, cache_size %d; want %d and %d", auto, cache, walBackstopPages, -sqliteWriterCacheKiB)
	}
	if err := db.write.Exec("CREATE TABLE items (v TEXT)").Error; err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := db.tx(ctx, func(tx *gorm.DB) error { return tx.Exec("INSERT INTO items (v) VALUES (?)", i).Error }); err != nil {
			t.Fatal(err)
		}
	}
	left, err := db.ckpt.checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d WAL frames left after a checkpoint with no reader", left)
	}
}

// TestGroupCommitClosed checks that a transaction after Close is refused
// at once instead of waiting for a writer that has stopped.
func TestGroupCommitClosed(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "closed.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	for range 3 {
		if err := db.tx(ctx, func(tx *gorm.DB) error { return nil }); !errors.Is(err, errClosed) {
			t.Fatalf("after Close: %v, want %v", err, errClosed)
		}
	}
}
