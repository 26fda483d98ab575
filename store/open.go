package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrNoDatabase is returned by OpenExisting when the file is missing.
var ErrNoDatabase = errors.New("does not exist")

// Create opens the database at path for the daemon, creating it first if
// it does not exist. A new database file is created mode 0600, and SQLite
// gives its -wal and -shm files the same mode: the database holds
// customer mail (SPEC §11.3, issue 9).
func Create(ctx context.Context, path string) (*DB, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("create database %s: %w", path, err)
		}
	case !errors.Is(err, fs.ErrExist):
		return nil, fmt.Errorf("create database %s: %w", path, err)
	}
	return Open(ctx, path)
}

// OpenExisting opens the database at path, which must exist: commands
// other than serve never create one (SPEC §11.3), so a wrong path or
// working directory is an error instead of an empty case list.
func OpenExisting(ctx context.Context, path string) (*DB, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("database %s %w (run serve first, or check [database] path)", path, ErrNoDatabase)
	}
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("open database %s: is a directory", path)
	}
	return Open(ctx, path)
}
