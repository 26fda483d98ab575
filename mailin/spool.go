package mailin

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// SpoolFrom is the default Fetcher.SpoolThreshold: a message whose IMAP
// literal is larger than this is copied to a spool file as it is read
// from the connection, instead of into memory, so that a mail with a
// large attachment costs the daemon a few buffers rather than its size.
// Smaller mail (nearly all of it) stays a []byte: no file per mail.
const SpoolFrom = 1 << 20

// spoolPrefix starts the name of every spool file, so that the sweep at
// start removes only the fetcher's own files.
const spoolPrefix = "spool-"

// Spool is one fetched message kept in a private file (mode 0600) while
// it is delivered. It reads like the bytes of the message (ReadAt, Size),
// without holding them in memory. The fetcher removes the file once the
// Sink has returned, whatever it returned.
type Spool struct {
	f *os.File
	r *io.SectionReader // the message's bytes in f
}

// ReadAt reads the message's bytes at off (io.ReaderAt).
func (s *Spool) ReadAt(p []byte, off int64) (int, error) { return s.r.ReadAt(p, off) }

// Size is the message's length in bytes.
func (s *Spool) Size() int64 { return s.r.Size() }

// remove closes and removes the spool file.
func (s *Spool) remove() error {
	return errors.Join(s.f.Close(), os.Remove(s.f.Name()))
}

// spoolDir is where spool files go: SpoolDir, or os.TempDir().
func (f *Fetcher) spoolDir() string {
	if f.SpoolDir == "" {
		return os.TempDir()
	}
	return f.SpoolDir
}

// spoolThreshold is the literal size above which a message is spooled;
// negative: never.
func (f *Fetcher) spoolThreshold() int64 {
	if f.SpoolThreshold == 0 {
		return SpoolFrom
	}
	return f.SpoolThreshold
}

// readBody reads a message's literal: into memory when it is small, into
// a spool file when it is larger than the spool threshold.
func (f *Fetcher) readBody(l imap.LiteralReader) ([]byte, *Spool, error) {
	if th := f.spoolThreshold(); th < 0 || l.Size() <= th {
		raw, err := ReadLiteral(l)
		return raw, nil, err
	}
	s, err := f.spool(l)
	return nil, s, err
}

// spool copies a literal to a new spool file.
func (f *Fetcher) spool(l imap.LiteralReader) (*Spool, error) {
	dir := f.spoolDir()
	if f.SpoolDir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("spool: %w", err)
		}
	}
	file, err := os.CreateTemp(dir, spoolPrefix+"*.eml") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	n, err := io.Copy(file, l)
	if err == nil && n != l.Size() {
		err = fmt.Errorf("literal cut short: %d of %d bytes", n, l.Size())
	}
	s := &Spool{f: file, r: io.NewSectionReader(file, 0, n)}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("spool: %w", err), s.remove())
	}
	return s, nil
}

// sweepSpool creates SpoolDir if needed, so that a directory the daemon
// cannot write shows at start rather than with the first large mail, and
// removes the spool files a crash left in it: no delivery is under way
// when Run starts, so none of them is in use. The default directory,
// os.TempDir(), is shared with others and is not swept.
func (f *Fetcher) sweepSpool() {
	if f.SpoolDir == "" {
		return
	}
	if err := os.MkdirAll(f.SpoolDir, 0o700); err != nil {
		f.log().Error("spool dir unusable: mail above the spool threshold cannot be fetched", "dir", f.SpoolDir, "err", err)
		return
	}
	entries, err := os.ReadDir(f.SpoolDir)
	if err != nil {
		f.log().Warn("spool sweep", "dir", f.SpoolDir, "err", err)
		return
	}
	n := 0
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), spoolPrefix) {
			continue
		}
		if err := os.Remove(filepath.Join(f.SpoolDir, e.Name())); err != nil {
			f.log().Warn("spool sweep", "dir", f.SpoolDir, "err", err)
			continue
		}
		n++
	}
	if n > 0 {
		f.log().Info("removed spool files left by a crash", "dir", f.SpoolDir, "count", n)
	}
}
