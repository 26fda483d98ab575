package mailin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"helpdeskd/internal/testmail"
)

// spoolSink is a memSink that looks at each spooled mail while Deliver
// runs: the file, its mode and its bytes.
type spoolSink struct {
	memSink
	dir     string
	want    map[uint32][]byte // what was appended, by UID
	failOne uint32            // Deliver fails the first time it sees this UID
	failed  bool              // it has
	retry   func()            // called at the first call after the failure
	smu     sync.Mutex
	spooled []uint32            // UIDs that came in a spool file
	paths   map[uint32][]string // their spool files, by UID
	seen    []string            // every spool file of earlier calls
	errs    []string
}

func (s *spoolSink) Deliver(ctx context.Context, mails []Mail) ([]Outcome, error) {
	var fail error
	s.smu.Lock()
	if s.failed && s.retry != nil {
		s.retry()
		s.retry = nil
	}
	// The files of earlier calls, failed ones too, are gone by now.
	for _, p := range s.seen {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			s.errs = append(s.errs, "spool file of an earlier delivery still there: "+p)
		}
	}
	for _, m := range mails {
		if m.Spool == nil {
			if !bytes.Equal(m.Raw, s.want[m.UID]) {
				s.errs = append(s.errs, "in-memory mail differs")
			}
			continue
		}
		name := m.Spool.(*Spool).f.Name()
		s.seen = append(s.seen, name)
		s.spooled = append(s.spooled, m.UID)
		s.paths[m.UID] = append(s.paths[m.UID], name)
		if m.Raw != nil {
			s.errs = append(s.errs, "spooled mail also in Raw")
		}
		if st, err := os.Stat(name); err != nil || st.Mode().Perm() != 0o600 || filepath.Dir(name) != s.dir {
			s.errs = append(s.errs, "spool file "+name+" not a private file in the spool dir")
		}
		b, err := io.ReadAll(io.NewSectionReader(m.Spool, 0, m.Spool.Size()))
		if err != nil || !bytes.Equal(b, s.want[m.UID]) || m.Spool.Size() != int64(len(s.want[m.UID])) {
			s.errs = append(s.errs, "spooled bytes differ")
		}
		if m.UID == s.failOne {
			s.failOne, s.failed = 0, true
			fail = errors.New("database down")
		}
	}
	s.smu.Unlock()
	if fail != nil {
		return nil, fail // nothing of the chunk committed
	}
	return s.memSink.Deliver(ctx, mails)
}

// newSpoolTest appends small and large (spooled) mails and returns the
// server and a sink that expects them.
func newSpoolTest(t *testing.T) (*testmail.Servers, *spoolSink) {
	t.Helper()
	srv, err := testmail.Start(testmail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	srv.AddUser("support@example.com", "pw")
	sink := &spoolSink{memSink: memSink{quarantined: map[uint32]bool{}}, dir: t.TempDir(), want: map[uint32][]byte{}, paths: map[uint32][]string{}}
	for i := 1; i <= 4; i++ {
		raw := mailN(i)
		if i%2 == 0 {
			raw = append(raw, strings.Repeat("a long log line\r\n", 200)...) // 3.4 KB
		}
		sink.want[uint32(i)] = raw
		srv.Append("support@example.com", "INBOX", raw)
	}
	return srv, sink
}

// spoolFiles lists the spool files in dir.
func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, spoolPrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// unseen counts the messages in the INBOX without \Seen, from a second
// connection.
func unseen(srv *testmail.Servers) (int, error) {
	c, err := imapclient.DialInsecure(srv.IMAPAddr, nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if err := c.Login("support@example.com", "pw").Wait(); err != nil {
		return 0, err
	}
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return 0, err
	}
	d, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
	if err != nil {
		return 0, err
	}
	return len(d.AllUIDs()), nil
}

// A message above the threshold reaches the Sink in a private spool file
// that reads as the message, small ones in memory, and every spool file
// is gone once the Sink has returned, whatever it returned. A failed
// delivery leaves the messages in the INBOX, unflagged, to be fetched
// (and spooled) again; spool files a crash left are removed at start.
func TestSpooledMessages(t *testing.T) {
	for _, tc := range []struct {
		name      string
		failOne   uint32
		leftovers bool
		spooled   []uint32
	}{
		{"delivered", 0, false, []uint32{2, 4}},
		{"sink fails on a spooled mail", 2, false, []uint32{2, 4, 2, 4}},
		{"crash leftovers swept at start", 0, true, []uint32{2, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, sink := newSpoolTest(t)
			sink.failOne = tc.failOne
			sink.retry = func() {
				if n, err := unseen(srv); err != nil || n != 4 {
					sink.errs = append(sink.errs, fmt.Sprintf("after the failed delivery %d of 4 messages unseen in the INBOX (%v)", n, err))
				}
			}
			if tc.leftovers {
				for _, name := range []string{spoolPrefix + "123.eml", spoolPrefix + "456.eml", "notes.txt"} {
					if err := os.WriteFile(filepath.Join(sink.dir, name), []byte("x"), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
			// A failed delivery ends the session before the fetcher is
			// ready; the next session, a second later, catches up.
			runWith(t, srv, &sink.memSink, &Fetcher{Sink: sink, SpoolDir: sink.dir, SpoolThreshold: 1000})
			if len(sink.errs) > 0 {
				t.Fatal(sink.errs)
			}
			if !slices.Equal(sink.delivered, []uint32{1, 2, 3, 4}) || !slices.Equal(sink.spooled, tc.spooled) {
				t.Fatalf("delivered %v, spooled %v; want 1-4 once each, spooled %v", sink.delivered, sink.spooled, tc.spooled)
			}
			if left := spoolFiles(t, sink.dir); len(left) > 0 {
				t.Errorf("spool files left: %v", left)
			}
			if _, err := os.Stat(filepath.Join(sink.dir, "notes.txt")); tc.leftovers && err != nil {
				t.Errorf("a file that is no spool file was removed: %v", err)
			}
			if folderUIDs(t, srv, "INBOX") != 0 || folderUIDs(t, srv, "Processed") != 4 {
				t.Errorf("inbox %d processed %d", folderUIDs(t, srv, "INBOX"), folderUIDs(t, srv, "Processed"))
			}
		})
	}
}

// literal is an imap.LiteralReader that says size bytes and fails or
// ends early.
type literal struct {
	r    io.Reader
	size int64
}

func (l literal) Read(p []byte) (int, error) { return l.r.Read(p) }
func (l literal) Size() int64                { return l.size }

type brokenConn struct{}

func (brokenConn) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

// A literal that breaks off while it is spooled is an error and leaves no
// file; the directory is created when missing.
func TestSpoolOfBrokenLiteral(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	f := &Fetcher{SpoolDir: dir, SpoolThreshold: 10}
	body := strings.Repeat("x", 100)
	for name, l := range map[string]literal{
		"connection reset": {io.MultiReader(strings.NewReader(body[:50]), brokenConn{}), 100},
		"cut short":        {strings.NewReader(body[:50]), 100},
	} {
		raw, sp, err := f.readBody(l)
		if err == nil || raw != nil || sp != nil {
			t.Errorf("%s: %q, %v, %v; want an error", name, raw, sp, err)
		}
		if left := spoolFiles(t, dir); len(left) > 0 {
			t.Errorf("%s: spool files left: %v", name, left)
		}
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("spool dir: %v, %v", st, err)
	}
	// Small literals are read into memory, large ones spooled whole.
	raw, sp, err := f.readBody(literal{strings.NewReader("short"), 5})
	if err != nil || string(raw) != "short" || sp != nil {
		t.Errorf("small literal: %q, %v, %v", raw, sp, err)
	}
	raw, sp, err = f.readBody(literal{strings.NewReader(body), 100})
	if err != nil || raw != nil || sp == nil || sp.Size() != 100 {
		t.Fatalf("large literal: %q, %v, %v", raw, sp, err)
	}
	b := make([]byte, 10)
	if n, err := sp.ReadAt(b, 95); n != 5 || err != io.EOF || string(b[:n]) != "xxxxx" {
		t.Errorf("ReadAt at the end: %d, %v", n, err)
	}
	if err := sp.remove(); err != nil || len(spoolFiles(t, dir)) > 0 {
		t.Errorf("remove: %v, left %v", err, spoolFiles(t, dir))
	}
}
