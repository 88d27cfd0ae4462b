package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// SQLite settings of the connections Open makes.
const (
	// sqliteWriterCacheKiB is the writer's page cache.
	sqliteWriterCacheKiB = 32 << 10
	// walBackstopPages is the WAL size (in pages) at which the writer
	// checkpoints by itself: only when the checkpointer fell far behind.
	walBackstopPages = 8192
	// checkpointEvery is how often the checkpointer copies the WAL back.
	checkpointEvery = 200 * time.Millisecond
)

// checkpointer copies SQLite's write-ahead log back into the database file
// from its own connection, every checkpointEvery. Left to SQLite, the
// connection whose commit crosses the 1,000-page mark does it, inside the
// one writer's turn, so every writer queued behind it waits for the copy;
// here the copy runs beside them (a PASSIVE checkpoint neither waits for
// nor blocks readers and the writer).
type checkpointer struct {
	db   *sql.DB
	stop chan struct{}
	done sync.WaitGroup
	once sync.Once
}

func newCheckpointer(dsn string) (*checkpointer, error) {
	db := sql.OpenDB(newStmtCacheConnector(dsn, 4))
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, err
	}
	c := &checkpointer{db: db, stop: make(chan struct{})}
	c.done.Add(1)
	go c.loop()
	return c, nil
}

func (c *checkpointer) loop() {
	defer c.done.Done()
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			// An error (the database busy or closing) is retried at the
			// next tick; the writer's backstop bounds the WAL meanwhile.
			_, _ = c.checkpoint(context.Background())
		}
	}
}

// checkpoint runs one PASSIVE checkpoint and returns how many WAL frames
// are still not copied back.
func (c *checkpointer) checkpoint(ctx context.Context) (int, error) {
	var busy, log, done int
	if err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done); err != nil {
		return 0, err
	}
	return log - done, nil
}

// close stops the loop and closes the connection; the last connection to
// close checkpoints the rest and removes the WAL.
func (c *checkpointer) close() error {
	var err error
	c.once.Do(func() {
		close(c.stop)
		c.done.Wait()
		err = c.db.Close()
	})
	return err
}
