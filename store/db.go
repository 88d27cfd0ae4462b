// Package store implements the domain's service interfaces with GORM, on an
// embedded SQLite file by default and on PostgreSQL when the URL says so.
// Row structs with gorm tags stay private here; exported methods open the
// transactions, unexported helpers take the *gorm.DB of that transaction.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/oklog/ulid/v2"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/migrations"
)

// Dialects the store speaks.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// DB is an open database: a writer and a reader handle, the dialect, and the
// clock every timestamp comes from.
type DB struct {
	// Now is the store's clock; tests and REMIT_NOW pin it.
	Now func() time.Time

	dialect string
	// write runs every transaction that changes data. On SQLite it holds a
	// single connection, so writers queue in Go instead of failing with
	// "database is locked"; on PostgreSQL it is the same pool as read.
	write *gorm.DB
	read  *gorm.DB
	url   string
	// group commits SQLite's write transactions and ckpt checkpoints its
	// WAL (both nil on PostgreSQL, whose writers run side by side).
	group *groupCommitter
	ckpt  *checkpointer
	// keys caches authenticated API keys (see keyCache).
	keys *keyCache
	// issuer numbers invoices issued at creation in groups, and inserts
	// writes new clients in groups (PostgreSQL only; see groupWriter).
	issuer, inserts *groupWriter
}

// Open connects to the database named by rawURL: a postgres:// or
// postgresql:// URL selects PostgreSQL; anything else is a SQLite file path
// (an optional "sqlite://" or "file:" prefix is allowed). It does not migrate.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	db := &DB{Now: func() time.Time { return time.Now().UTC() }, url: rawURL}
	// Both drivers keep a prepared statement per query text on each
	// connection: pgx by default, SQLite's connections through our own
	// cache (see openSQLite). GORM's PrepareStmt stays off: it prepares a
	// statement first seen outside a transaction on a connection of its
	// own, while transactions that want the same text wait for it; with
	// every pooled connection held by such transactions, nothing moves.
	cfg := func() *gorm.Config {
		return &gorm.Config{
			Logger:                 logger.Discard,
			SkipDefaultTransaction: true,
			TranslateError:         true,
			NowFunc:                func() time.Time { return db.now() },
		}
	}
	if strings.HasPrefix(rawURL, "postgres://") || strings.HasPrefix(rawURL, "postgresql://") {
		g, err := gorm.Open(postgres.Open(rawURL), cfg())
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		sqlDB, _ := g.DB()
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(20)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		if err := sqlDB.PingContext(ctx); err != nil {
			sqlDB.Close()
			return nil, fmt.Errorf("connect to postgres: %w", err)
		}
		db.dialect, db.write, db.read = Postgres, g, g
		db.keys = newKeyCache(false) // used once its listener listens
		db.issuer, db.inserts = newGroupWriter(g, 1), newGroupWriter(g, 1)
		return db, nil
	}

	path := SQLitePath(rawURL)
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	common := "_journal_mode=WAL&_busy_timeout=10000&_foreign_keys=on&_synchronous=NORMAL"
	// The writer keeps a larger page cache, since the pages it changes are
	// the same few index leaves again and again, and leaves checkpoints to
	// the checkpointer unless it falls far behind. (Mapping the file with
	// mmap_size was measured too: it cost 15 % more CPU per client created,
	// as the mapping follows the growing file.)
	w, err := openSQLite("file:"+path+"?"+common+"&_txlock=immediate", cfg(),
		fmt.Sprintf("PRAGMA cache_size = -%d", sqliteWriterCacheKiB), fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", walBackstopPages))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	wdb, _ := w.DB()
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	if err := wdb.PingContext(ctx); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r, err := openSQLite("file:"+path+"?"+common+"&_query_only=1", cfg())
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	rdb, _ := r.DB()
	rdb.SetMaxOpenConns(8)
	rdb.SetMaxIdleConns(8)
	ckpt, err := newCheckpointer("file:" + path + "?" + common)
	if err != nil {
		wdb.Close()
		rdb.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.dialect, db.write, db.read = SQLite, w, r
	db.group, db.ckpt = newGroupCommitter(w), ckpt
	// One process serves a SQLite file (LockForServing), so invalidating
	// in this process is enough.
	db.keys = newKeyCache(true)
	return db, nil
}

// openSQLite opens a GORM handle on the go-sqlite3 DSN whose connections
// each keep a prepared statement per query text (see stmtcache.go): GORM's
// PrepareStmt would prepare every statement again in every transaction,
// and on SQLite that happens while holding the one writer connection.
func openSQLite(dsn string, cfg *gorm.Config, pragmas ...string) (*gorm.DB, error) {
	sqlDB := sql.OpenDB(newStmtCacheConnector(dsn, stmtCacheSize, pragmas...))
	g, err := gorm.Open(sqlite.New(sqlite.Config{Conn: sqlDB}), cfg)
	if err != nil {
		sqlDB.Close()
		return nil, err
	}
	return g, nil
}

// SQLitePath returns the file path in a SQLite URL.
func SQLitePath(rawURL string) string {
	p := strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite://"), "file:")
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return p
}

// Dialect returns SQLite or Postgres.
func (db *DB) Dialect() string { return db.dialect }

// Migrate applies the pending SQL migrations in order, each in a transaction.
// On PostgreSQL an advisory lock keeps replicas that start together from
// migrating twice.
func (db *DB) Migrate(ctx context.Context) error {
	sqlDB, err := db.write.DB()
	if err != nil {
		return err
	}
	dialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if db.dialect == Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, sqlDB, migrations.FS, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Close closes both handles.
func (db *DB) Close() error {
	var errs []error
	db.keys.stopListening()
	if db.issuer != nil {
		db.issuer.close()
		db.inserts.close()
	}
	if db.group != nil {
		db.group.close()
		errs = append(errs, db.ckpt.close())
	}
	for _, g := range []*gorm.DB{db.write, db.read} {
		if s, err := g.DB(); err == nil {
			errs = append(errs, s.Close())
		}
		if db.read == db.write {
			break
		}
	}
	return errors.Join(errs...)
}

// SQL returns the writer's *sql.DB, for tools (backup, benchmarks) that need it.
func (db *DB) SQL() *sql.DB {
	s, _ := db.write.DB()
	return s
}

// txKey is the context key of a request-wide transaction (see WithinTx).
type txKey struct{}

// WithinTx runs fn with a context that carries one write transaction: every
// store method called with that context joins it (their own transactions
// become savepoints, their reads see its writes), and it commits only if fn
// returns nil. The idempotency of POST requests is built on it, so that a
// request's effect and its stored response commit together. On PostgreSQL,
// when a statement of the transaction was chosen as a deadlock victim or
// failed to serialize, the whole transaction is rolled back and fn runs
// again (see retry); fn must therefore be safe to run again from scratch.
func (db *DB) WithinTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return fn(ctx)
	}
	hooks := &commitHooks{}
	ctx = context.WithValue(ctx, commitHooksKey{}, hooks)
	var err error
	if db.group != nil {
		// fn runs on the writer: its statements must not be interrupted
		// by the request's context (see groupCommitter.run).
		err = translate(db.group.run(ctx, func(tx *gorm.DB) error {
			return fn(context.WithValue(context.WithoutCancel(ctx), txKey{}, tx))
		}))
	} else {
		err = db.retry(ctx, func(note *retryNote) error {
			return db.write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				return fn(context.WithValue(context.WithValue(ctx, txKey{}, tx), retryKey{}, note))
			})
		})
	}
	if err == nil {
		for _, f := range hooks.fns {
			f()
		}
	}
	return err
}

// commitHooksKey is the context key of the *commitHooks of a request-wide
// transaction (see WithinTx).
type commitHooksKey struct{}

// commitHooks are what must happen in this process once a request-wide
// transaction has committed.
type commitHooks struct{ fns []func() }

// afterCommit calls f once what the caller wrote with ctx has committed:
// now, unless ctx carries a request-wide transaction still to commit (then
// when it commits; never if it rolls back). Call it after the store
// method's own transaction returned.
func (db *DB) afterCommit(ctx context.Context, f func()) {
	if h, ok := ctx.Value(commitHooksKey{}).(*commitHooks); ok {
		h.fns = append(h.fns, f)
		return
	}
	f()
}

// tx runs fn in a write transaction and translates its error; inside
// WithinTx it runs in a savepoint of the request's transaction. On
// PostgreSQL a transaction of its own is retried when it is chosen as a
// deadlock victim or fails to serialize; a savepoint is not, since the
// locks its request already holds take part in the conflict: it notes the
// failure, and WithinTx retries the request's transaction as a whole.
func (db *DB) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if outer, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		err := outer.WithContext(ctx).Transaction(fn)
		if note, ok := ctx.Value(retryKey{}).(*retryNote); ok && retryable(err) {
			note.failed = true
		}
		return translate(err)
	}
	if db.group != nil {
		return translate(db.group.run(ctx, fn))
	}
	return db.retry(ctx, func(*retryNote) error { return db.write.WithContext(ctx).Transaction(fn) })
}

// maxAttempts bounds how often retry runs a transaction.
const maxAttempts = 8

// retryKey is the context key of the *retryNote of a request-wide
// transaction (see WithinTx).
type retryKey struct{}

// retryNote records that a savepoint of a request-wide transaction failed
// in a way that only running the whole transaction again can fix. The
// request may have turned the error into a response of its own (a 500)
// rather than return it, so retry looks here too.
type retryNote struct{ failed bool }

// retry runs a PostgreSQL transaction until it is not a deadlock victim and
// does not fail to serialize, at most maxAttempts times, waiting a little
// longer (and a random part of it, so that the parties to a deadlock do
// not meet again) between attempts. A transaction that committed is never
// run again. After the last attempt the caller gets EUNAVAILABLE (503:
// retry later), never the driver's error.
func (db *DB) retry(ctx context.Context, run func(note *retryNote) error) error {
	for attempt := 1; ; attempt++ {
		note := &retryNote{}
		err := run(note)
		if err == nil || !note.failed && !retryable(err) {
			return translate(err)
		}
		if attempt == maxAttempts {
			return domain.Errorf(domain.EUNAVAILABLE, "the database could not order this request among concurrent ones in %d attempts; retry it", attempt)
		}
		backoff := min(time.Duration(1<<attempt)*2*time.Millisecond, 250*time.Millisecond)
		backoff = backoff/2 + time.Duration(mrand.Int64N(int64(backoff)))
		select {
		case <-ctx.Done():
			return translate(err)
		case <-time.After(backoff):
		}
	}
}

// retryable reports whether err is PostgreSQL's answer to a transaction
// that lost a race and may succeed when run again: deadlock_detected
// (40P01) or serialization_failure (40001).
func retryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40P01" || pg.Code == "40001")
}

// reader returns the read handle bound to ctx (the request's transaction
// inside WithinTx).
func (db *DB) reader(ctx context.Context) *gorm.DB {
	if outer, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return outer.WithContext(ctx)
	}
	return db.read.WithContext(ctx)
}

// writer returns the write handle for a single statement (the request's
// transaction inside WithinTx).
func (db *DB) writer(ctx context.Context) *gorm.DB {
	if outer, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return outer.WithContext(ctx)
	}
	return db.write.WithContext(ctx)
}

// newID returns a fresh, time-ordered id with the given prefix ("cli", "inv", ...).
func (db *DB) newID(prefix string) string {
	return prefix + "_" + strings.ToLower(ulid.MustNew(ulid.Timestamp(db.now()), ulid.DefaultEntropy()).String())
}

// randomToken returns n random bytes, hex encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return fmt.Sprintf("%x", b)
}

// translate maps driver errors to domain errors; domain errors pass through.
func translate(err error) error {
	var de *domain.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &de):
		return err
	case errors.Is(err, gorm.ErrRecordNotFound):
		return domain.Errorf(domain.ENOTFOUND, "not found")
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return domain.Errorf(domain.ECONFLICT, "already exists")
	}
	return err
}

// page applies keyset pagination in descending id order and returns the
// query; call finishPage on what it found.
func page(q *gorm.DB, p domain.PageParams) *gorm.DB {
	if p.StartingAfter != "" {
		q = q.Where("id < ?", p.StartingAfter)
	}
	return q.Order("id DESC").Limit(p.Limit + 1)
}

// finishPage trims the extra row page asked for and converts the rows.
func finishPage[R any, T any](rows []R, p domain.PageParams, conv func(*R) T) domain.Page[T] {
	out := domain.Page[T]{Data: make([]T, 0, min(len(rows), p.Limit))}
	if len(rows) > p.Limit {
		rows, out.HasMore = rows[:p.Limit], true
	}
	for i := range rows {
		out.Data = append(out.Data, conv(&rows[i]))
	}
	return out
}

// RedactURL hides the password of a database URL for logs.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}

// now is the store's clock at the precision both databases keep (microseconds),
// so that what a write returns equals what a later read finds.
func (db *DB) now() time.Time { return db.Now().UTC().Truncate(time.Microsecond) }
