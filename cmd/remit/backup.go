package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"

	"github.com/remit/remit/store"
)

// backupCommand is `remit backup FILE`: a consistent copy of the SQLite
// database of DATABASE_URL, taken while Remit serves from it.
func backupCommand(ctx context.Context, cfg Config, logger *slog.Logger, args []string) error {
	fl := flag.NewFlagSet("backup", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	if err := fl.Parse(args); err != nil || fl.NArg() != 1 {
		return errors.New("usage: remit backup FILE (a new file; DATABASE_URL names the database)")
	}
	file := fl.Arg(0)
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
func restoreCommand(ctx context.Context, cfg Config, logger *slog.Logger, args []string) error {
	fl := flag.NewFlagSet("restore", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	force := fl.Bool("force", false, "replace the database if it exists")
	if err := fl.Parse(args); err != nil || fl.NArg() != 1 {
		return errors.New("usage: remit restore [-force] FILE (stop Remit first; DATABASE_URL names the database to replace)")
	}
	file := fl.Arg(0)
	if err := store.Restore(ctx, file, cfg.DatabaseURL, *force); err != nil {
		return err
	}
	logger.Info("database restored", "database", store.RedactURL(cfg.DatabaseURL), "from", file)
	return nil
}
