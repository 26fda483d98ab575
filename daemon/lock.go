//go:build unix

package daemon

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ErrLocked is returned by Lock when another process holds the database.
var ErrLocked = errors.New("database is in use")

// LockedError says which process holds the database.
type LockedError struct {
	DB  string
	PID int // 0: unknown (the holder has not written it yet)
}

func (e *LockedError) Error() string {
	holder := "another process"
	if e.PID > 0 {
		holder = fmt.Sprintf("pid %d", e.PID)
	}
	return fmt.Sprintf("database %s is in use by another helpdeskd serve (%s, lock file %s.lock)", e.DB, holder, e.DB)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Lock takes the exclusive lock on dbPath + ".lock" that makes one daemon
// per database (SPEC §11.3), and writes this process's pid into the file
// so that a second daemon can name the holder. The lock is released by
// the returned function, or by the kernel when the process ends.
func Lock(dbPath string) (release func(), err error) {
	path := dbPath + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock database %s: %w", dbPath, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:n])))
			return nil, &LockedError{DB: dbPath, PID: pid}
		}
		return nil, fmt.Errorf("lock database %s: %w", dbPath, err)
	}
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock database %s: write pid: %w", dbPath, err)
	}
	return func() {
		// The file stays: removing it would let a third process lock a
		// new file while a second one still waits on the old one.
		f.Truncate(0)
		f.Close()
	}, nil
}
