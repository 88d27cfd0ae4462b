package store

import (
	"gorm.io/gorm"
)

// maxParams keeps a statement under both databases' bind-parameter limits
// (SQLite 32766, PostgreSQL 65535).
const maxParams = 30000

// insertRows writes rows into table with multi-row INSERT statements, in
// chunks; suffix (e.g. "ON CONFLICT DO NOTHING RETURNING id") ends each one.
// With a RETURNING suffix, returned collects the first column of every
// returned row.
func insertRows(tx *gorm.DB, table string, cols []string, rows [][]any, suffix string, returned *[]string) error {
	if len(rows) == 0 {
		return nil
	}
	per := max(1, maxParams/len(cols))
	for start := 0; start < len(rows); start += per {
		part := rows[start:min(start+per, len(rows))]
		args := make([]any, 0, len(part)*len(cols))
		for _, r := range part {
			args = append(args, r...)
		}
		query := valuesSQL(table, cols, len(part))
		if suffix != "" {
			query += " " + suffix
		}
		if returned != nil {
			err := rawQuery(tx, query, args, func(scan func(dest ...any) error) error {
				var id string
				if err := scan(&id); err != nil {
					return err
				}
				*returned = append(*returned, id)
				return nil
			})
			if err != nil {
				return err
			}
			continue
		}
		if _, err := rawExec(tx, query, args...); err != nil {
			return err
		}
	}
	return nil
}
