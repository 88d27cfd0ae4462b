package store

import (
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"

	"gorm.io/gorm"
)

// The hot paths (issuing an invoice, recording a payment, a Stripe event,
// reading an invoice) run their statements on the transaction's connection
// directly: there, GORM's statement building and reflection cost more than
// SQLite's own work. The statements still go through GORM's connection pool
// and transaction, SQLite's per-connection statement cache (stmtcache.go) and
// GORM's prepared statements on PostgreSQL, and their errors are translated
// by the dialect like GORM's own.

// rawExec runs a statement written with ? placeholders and returns the
// number of rows it changed.
func rawExec(tx *gorm.DB, query string, args ...any) (int64, error) {
	res, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context, rebind(tx, query), args...)
	if err != nil {
		return 0, translateDriver(tx, err)
	}
	return res.RowsAffected()
}

// rawScan runs a query written with ? placeholders and scans its first row
// into dest; no row is gorm.ErrRecordNotFound.
func rawScan(tx *gorm.DB, query string, args []any, dest ...any) error {
	err := tx.Statement.ConnPool.QueryRowContext(tx.Statement.Context, rebind(tx, query), args...).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return gorm.ErrRecordNotFound
	}
	return translateDriver(tx, err)
}

// rawQuery runs a query written with ? placeholders and calls scan for each
// row with the row's Scan.
func rawQuery(tx *gorm.DB, query string, args []any, scan func(scan func(dest ...any) error) error) error {
	rows, err := tx.Statement.ConnPool.QueryContext(tx.Statement.Context, rebind(tx, query), args...)
	if err != nil {
		return translateDriver(tx, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows.Scan); err != nil {
			return err
		}
	}
	return translateDriver(tx, rows.Err())
}

// translateDriver maps a driver error to GORM's (a unique violation to
// gorm.ErrDuplicatedKey), as GORM does for its own statements.
func translateDriver(tx *gorm.DB, err error) error {
	if err == nil {
		return nil
	}
	if t, ok := tx.Dialector.(gorm.ErrorTranslator); ok {
		return t.Translate(err)
	}
	return err
}

// pgQueries caches the PostgreSQL form ($1, $2, ...) of each query text.
var pgQueries sync.Map

// rebind returns query with PostgreSQL's numbered placeholders when tx is
// on PostgreSQL. Remit's raw queries never hold a ? inside a literal.
func rebind(tx *gorm.DB, query string) string {
	if tx.Dialector.Name() != "postgres" {
		return query
	}
	return rebindPostgres(query)
}

// rebindPostgres returns query with PostgreSQL's numbered placeholders.
func rebindPostgres(query string) string {
	if q, ok := pgQueries.Load(query); ok {
		return q.(string)
	}
	var sb strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			sb.WriteByte('$')
			sb.WriteString(strconv.Itoa(n))
			continue
		}
		sb.WriteRune(r)
	}
	pgQueries.Store(query, sb.String())
	return sb.String()
}

// valuesSQL returns "INSERT INTO table (cols) VALUES (?, ...), ..." for n
// rows, cached per shape so the statement cache sees one text per shape.
func valuesSQL(table string, cols []string, n int) string {
	key := valuesKey{table, strings.Join(cols, ","), n}
	if q, ok := valuesQueries.Load(key); ok {
		return q.(string)
	}
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(tuple+", ", n), ", ")
	valuesQueries.Store(key, q)
	return q
}

type valuesKey struct {
	table, cols string
	rows        int
}

var valuesQueries sync.Map
