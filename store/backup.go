package store

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// Backup writes a consistent copy of the database to path with SQLite's
// VACUUM INTO, while the daemon keeps running: it reads one snapshot and
// does not block writers. path must not exist; the copy is created mode
// 0600.
func (db *DB) Backup(ctx context.Context, path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	// VACUUM INTO accepts an existing empty file and keeps its mode.
	if _, err := db.w.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return errors.Join(fmt.Errorf("backup to %s: %w", path, err), os.Remove(path))
	}
	return nil
}
