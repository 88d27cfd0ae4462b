package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/remit/remit/store"
)

// backupCommand is `remit backup FILE`: a consistent copy of the SQLite
// database of DATABASE_URL, taken while Remit serves from it.
func backupCommand(ctx context.Context, cfg Config, logger *slog.Logger, file string) error {
	if !store.IsPostgresURL(cfg.DatabaseURL) {
		// store.Open would create an empty database; a backup of it helps no one.
		if _, err := os.Stat(store.SQLitePath(cfg.DatabaseURL)); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("backup: there is no database at %s (DATABASE_URL)", store.SQLitePath(cfg.DatabaseURL))
		}
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, file); err != nil {
		return err
	}
	fi, err := os.Stat(file)
	if err != nil {
		return err
	}
	logger.Info("backup written", "database", store.RedactURL(cfg.DatabaseURL), "file", file, "bytes", fi.Size())
	return nil
}

// restoreCommand is `remit restore [-force] FILE`: it replaces the SQLite
// database of DATABASE_URL with a backup, with Remit stopped.
func restoreCommand(ctx context.Context, cfg Config, logger *slog.Logger, force bool, file string) error {
	if err := store.Restore(ctx, file, cfg.DatabaseURL, force); err != nil {
		return err
	}
	logger.Info("database restored", "database", store.RedactURL(cfg.DatabaseURL), "from", file)
	return nil
}
