// Package migrations holds the database schema as numbered SQL files, applied
// in order at start (each inside a transaction) and recorded by goose in the
// goose_db_version table. The same files run on SQLite and PostgreSQL, so they
// use only the SQL both understand.
package migrations

import "embed"

// FS holds the NNNN_name.sql files.
//
//go:embed *.sql
var FS embed.FS
