//go:build !unix

package daemon

import "errors"

// ErrLocked is returned by Lock when another process holds the database.
var ErrLocked = errors.New("database is in use")

// Lock is not available on this platform: the daemon runs without the
// one-daemon-per-database guard.
func Lock(dbPath string) (release func(), err error) { return func() {}, nil }
