package store

import (
	"errors"
	"fmt"
	"os"
)

// ErrDatabaseInUse is returned by Restore while a process serves from the
// database, and by LockForServing while a restore replaces it.
var ErrDatabaseInUse = errors.New("the database is in use")

// LockPath is the lock file beside a SQLite database: every process that
// serves from the database holds a shared lock on it (LockForServing), and
// Restore takes it exclusively.
func LockPath(dbPath string) string { return dbPath + ".lock" }

// LockForServing takes a shared lock on the lock file of the SQLite
// database of rawURL, held until release is called (or the process ends,
// however it ends: the kernel drops the lock with the file). Several
// processes may hold it; Restore refuses while any does. On PostgreSQL it
// does nothing.
func LockForServing(rawURL string) (release func() error, err error) {
	if IsPostgresURL(rawURL) || SQLitePath(rawURL) == "" || SQLitePath(rawURL) == ":memory:" {
		return func() error { return nil }, nil
	}
	path := LockPath(SQLitePath(rawURL))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := flock(f, false); err != nil {
		f.Close()
		if errors.Is(err, ErrDatabaseInUse) {
			return nil, fmt.Errorf("%s is being restored (remit restore holds %s): %w", SQLitePath(rawURL), path, err)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f.Close, nil
}

// lockForRestore takes the lock file of dbPath exclusively, or returns
// ErrDatabaseInUse at once when a serving process holds it.
func lockForRestore(dbPath string) (release func() error, err error) {
	path := LockPath(dbPath)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := flock(f, true); err != nil {
		f.Close()
		if errors.Is(err, ErrDatabaseInUse) {
			return nil, fmt.Errorf("a Remit process is serving from %s (it holds a lock on %s): stop it first "+
				"(systemctl stop remit, docker compose stop, or SIGTERM to its process), then run restore again: %w", dbPath, path, err)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f.Close, nil
}
