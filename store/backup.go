package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrPostgresBackup refuses Backup and Restore on PostgreSQL, which has its
// own tools.
var ErrPostgresBackup = errors.New("remit backup and restore work on SQLite only; back up PostgreSQL with pg_dump (pg_dump -Fc \"$DATABASE_URL\" > remit.dump) and restore with pg_restore")

// Backup writes a consistent copy of the live SQLite database to path with
// VACUUM INTO, while other connections and processes keep reading and
// writing: the copy is one read transaction's snapshot, so it holds every
// transaction committed before it started and none after. The copy is a
// single file, written beside path and renamed into place only once it is
// complete. It refuses when path exists, and returns ErrPostgresBackup on
// PostgreSQL.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.dialect != SQLite {
		return ErrPostgresBackup
	}
	if path == "" {
		return errors.New("backup: no file name")
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("backup: %s already exists; choose a new file name", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup: %w", err)
	}
	tmp, err := reserveTemp(path)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp) // a no-op once renamed
	// A connection of its own runs it: VACUUM INTO only reads this
	// database, so the single writer stays free for the requests being
	// served, and the readers are query_only, which SQLite takes to forbid it.
	c, err := sql.Open("sqlite3", "file:"+SQLitePath(db.url)+"?_busy_timeout=10000")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		return fmt.Errorf("backup: VACUUM INTO: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := CheckSQLiteFile(ctx, tmp); err != nil {
		return fmt.Errorf("backup: the copy failed its check: %w", err)
	}
	// Link refuses to replace a file that appeared meanwhile, unlike Rename;
	// where the file system has no hard links, Rename after a last check.
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("backup: %s already exists; choose a new file name", path)
		}
		if _, serr := os.Lstat(path); serr == nil {
			return fmt.Errorf("backup: %s already exists; choose a new file name", path)
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
	}
	return syncDir(filepath.Dir(path))
}

// CheckSQLiteFile opens the SQLite file at path read-only and checks that
// it is a sound Remit database: PRAGMA integrity_check answers "ok" and its
// migrations table is there.
func CheckSQLiteFile(ctx context.Context, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	// immutable: nothing else writes a backup, and it needs no -shm file.
	c, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&immutable=1")
	if err != nil {
		return err
	}
	defer c.Close()
	rows, err := c.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("%s is not a SQLite database: %w", path, err)
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return err
		}
		problems = append(problems, line)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s is not a SQLite database: %w", path, err)
	}
	if len(problems) != 1 || problems[0] != "ok" {
		if len(problems) > 5 {
			problems = append(problems[:5], "...")
		}
		return fmt.Errorf("integrity_check of %s: %s", path, strings.Join(problems, "; "))
	}
	var n int
	if err := c.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'").Scan(&n); err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("%s is a SQLite database but not Remit's (no goose_db_version table)", path)
	}
	return nil
}

// Restore replaces the SQLite database of rawURL with the backup file at
// backup, after CheckSQLiteFile passes on it. Remit must not be running on
// that database, since a running service would keep writing to the file it
// replaced: Restore refuses (ErrDatabaseInUse, saying how to stop it) while
// any process holds the serving lock (LockForServing), and holds the lock
// itself until the file is in place. It refuses when the database exists
// unless force is set; with force, the old file and its -wal and -shm files
// are replaced. The copy is written beside the database and renamed into
// place. It returns ErrPostgresBackup for a PostgreSQL URL. The next start
// applies any migrations the backup predates.
func Restore(ctx context.Context, backup, rawURL string, force bool) error {
	if IsPostgresURL(rawURL) {
		return ErrPostgresBackup
	}
	target := SQLitePath(rawURL)
	if target == "" {
		return errors.New("restore: DATABASE_URL names no file")
	}
	if err := CheckSQLiteFile(ctx, backup); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if same, err := sameFile(backup, target); err != nil {
		return fmt.Errorf("restore: %w", err)
	} else if same {
		return fmt.Errorf("restore: %s is the database itself", backup)
	}
	if _, err := os.Lstat(target); err == nil && !force {
		return fmt.Errorf("restore: %s exists; stop Remit and pass -force to replace it", target)
	}
	if dir := filepath.Dir(target); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	// A server still writing to the old file would go on writing to a
	// deleted inode, and every later write would be lost: refuse while any
	// process serves from it, and keep servers from starting meanwhile.
	release, err := lockForRestore(target)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer release()
	tmp, err := reserveTemp(target)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.Remove(tmp)
	if err := copyFile(backup, tmp); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// A -wal file left by the old database would be replayed into the new
	// one on the next open; remove it (and the index of it) first.
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Remove(target + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restore: %w", err)
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return syncDir(filepath.Dir(target))
}

// IsPostgresURL reports whether rawURL selects PostgreSQL, as Open decides.
func IsPostgresURL(rawURL string) bool {
	return strings.HasPrefix(rawURL, "postgres://") || strings.HasPrefix(rawURL, "postgresql://")
}

// reserveTemp returns the name of a new, absent file beside path.
func reserveTemp(path string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	f.Close()
	// VACUUM INTO wants the file absent (or empty); leave only the name.
	return name, os.Remove(name)
}

// copyFile copies src to the new file dst and syncs it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// syncFile flushes path to stable storage.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// syncDir makes a rename or link in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	// Some file systems cannot sync a directory; the data is synced already.
	_ = d.Sync()
	return nil
}

// sameFile reports whether a and b name the same existing file.
func sameFile(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}
