package store

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"helpdeskd/cases"
)

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The first-sync state survives a reopen, a UIDVALIDITY reset keeps it,
// and ending it clears only the start.
func TestFirstSyncState(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	err = db.Tx(ctx, func(tx *Txn) error {
		if s, e, err := tx.FirstSync("INBOX"); err != nil || !s.IsZero() || e != 0 {
			t.Fatalf("no state yet: %v %d %v", s, e, err)
		}
		if err := tx.BeginFirstSync("INBOX", 7, start, 500); err != nil {
			return err
		}
		return tx.SetMailboxState("INBOX", 7, 120)
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Tx(ctx, func(tx *Txn) error {
		s, e, err := tx.FirstSync("INBOX")
		if err != nil || !s.Equal(start) || e != 500 {
			t.Fatalf("after reopen: %v %d %v", s, e, err)
		}
		if v, last, err := tx.MailboxState("INBOX"); err != nil || v != 7 || last != 120 {
			t.Fatalf("mailbox state %d %d %v", v, last, err)
		}
		if err := tx.SetMailboxState("INBOX", 8, 0); err != nil {
			return err
		}
		if s, e, _ := tx.FirstSync("INBOX"); !s.Equal(start) || e != 500 {
			t.Fatalf("a reset lost the first sync: %v %d", s, e)
		}
		if err := tx.EndFirstSync("INBOX"); err != nil {
			return err
		}
		if s, _, _ := tx.FirstSync("INBOX"); !s.IsZero() {
			t.Fatalf("ended first sync still has start %v", s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// New attachments keep only their metadata and part number; rows stored
// with their bytes before migration 6 still return them.
func TestAttachmentRows(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	err := db.Tx(ctx, func(tx *Txn) error {
		m := &StoredMessage{Mailbox: "INBOX", UIDValidity: 1, UID: 1, Hash: "h", ReceivedAt: time.Now(), Raw: []byte("x")}
		if err := tx.InsertMessage(m); err != nil {
			return err
		}
		a := &Attachment{Message: m.ID, Filename: "a.bin", ContentType: "application/octet-stream", Size: 5, Part: 2, Data: []byte("ignored")}
		if err := tx.InsertAttachment(a); err != nil {
			return err
		}
		got, err := tx.Attachment(a.ID)
		if err != nil || got.Part != 2 || got.Data != nil || got.Size != 5 || got.Filename != "a.bin" {
			t.Fatalf("new row: %+v, %v", got, err)
		}
		res, err := tx.exec("INSERT INTO attachments (message, filename, content_type, size, data) VALUES (?, 'old.bin', 'text/plain', 3, x'6f6c64')", m.ID)
		if err != nil {
			return err
		}
		id, _ := res.LastInsertId()
		got, err = tx.Attachment(id)
		if err != nil || got.Part != -1 || string(got.Data) != "old" {
			t.Fatalf("legacy row: %+v, %v", got, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A raw message larger than a chunk is stored in chunks and read back
// byte for byte; a small one stays inline.
func TestRawChunks(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	big := make([]byte, 2*rawChunk+12345)
	for i := range big {
		big[i] = byte(i % 251)
	}
	for _, raw := range [][]byte{big, []byte("From: a@b.test\r\n\r\nsmall\r\n"), {}} {
		err := db.Tx(ctx, func(tx *Txn) error {
			m := &StoredMessage{Mailbox: "INBOX", UIDValidity: 1, UID: uint32(len(raw) + 1), Hash: "h", Matched: "quarantine", ReceivedAt: time.Now(), Raw: raw}
			if err := tx.InsertMessage(m); err != nil {
				return err
			}
			got, err := tx.Message(m.ID)
			if err != nil {
				return err
			}
			if !bytes.Equal(got.Raw, raw) || got.Size != len(raw) {
				t.Errorf("%d bytes stored, %d (size %d) read back", len(raw), len(got.Raw), got.Size)
			}
			var chunks int
			tx.row("SELECT COUNT(*) FROM message_chunks WHERE message = ?", m.ID).Scan(&chunks)
			if want := map[bool]int{true: 3, false: 0}[len(raw) > rawChunk]; chunks != want {
				t.Errorf("%d bytes: %d chunks, want %d", len(raw), chunks, want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	err := db.Read(ctx, func(tx *Txn) error {
		qs, err := tx.QuarantinedMessages()
		if err != nil || len(qs) != 3 || qs[0].Size != len(big) {
			t.Fatalf("quarantined list: %+v %v", qs, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Transactions on several goroutines, each meeting new statements, never
// wait on each other through the statement cache.
func TestStatementCacheUnderConcurrency(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	done := make(chan error, 4)
	for g := range 4 {
		go func() {
			for i := range 40 {
				q := fmt.Sprintf("SELECT %d + ?", g*1000+i%10)
				var err error
				if g%2 == 0 {
					err = db.Tx(ctx, func(tx *Txn) error { var n int; return tx.row(q, 1).Scan(&n) })
				} else {
					err = db.Read(ctx, func(tx *Txn) error { var n int; return tx.row(q, 1).Scan(&n) })
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("transactions deadlocked on the statement cache")
		}
	}
}

// The engineer_load triggers keep the same counts as counting the open
// cases, through openings, reassignments, closings, reopenings and
// deletions.
func TestEngineerLoadTriggers(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	engineers := []string{"", "eng1@example.com", "eng2@example.com", "eng3@example.com"}
	statuses := []string{cases.StatusOpen, cases.StatusResolved, cases.StatusClosed}
	var nums []int64
	err := db.Tx(ctx, func(tx *Txn) error {
		for i := range 400 {
			switch op := r.IntN(4); {
			case op == 0 || len(nums) == 0:
				c := &cases.Case{Subject: "s", Status: statuses[r.IntN(3)], Severity: 3, Priority: "normal",
					Engineer: engineers[r.IntN(4)], OpenedAt: time.Now()}
				if err := tx.InsertCase(c); err != nil {
					return err
				}
				nums = append(nums, c.Number)
			case op == 3 && i%7 == 0:
				k := r.IntN(len(nums))
				if _, err := tx.exec("DELETE FROM cases WHERE number = ?", nums[k]); err != nil {
					return err
				}
				nums = slices.Delete(nums, k, k+1)
			default:
				c, err := tx.Case(nums[r.IntN(len(nums))])
				if err != nil {
					return err
				}
				if op == 1 {
					c.Status = statuses[r.IntN(3)]
				} else {
					c.Engineer = engineers[r.IntN(4)]
				}
				if err := tx.UpdateCase(c); err != nil {
					return err
				}
			}
			got, err := tx.OpenCasesByEngineer()
			if err != nil {
				return err
			}
			want := map[string]int{}
			rows, err := tx.query("SELECT engineer, COUNT(*) FROM cases WHERE status != 'closed' AND engineer != '' GROUP BY engineer")
			if err != nil {
				return err
			}
			for rows.Next() {
				var e string
				var n int
				rows.Scan(&e, &n)
				want[e] = n
			}
			rows.Close()
			if !maps.Equal(got, want) {
				t.Fatalf("step %d: load %v, counted %v", i, got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// shortSource claims more bytes than it holds, as a spool file cut short
// would.
type shortSource struct{ *bytes.Reader }

func (s shortSource) Size() int64 { return s.Reader.Size() + 100 }

// countingSource counts the bytes read and the largest single read.
type countingSource struct {
	*bytes.Reader
	read, largest int
}

func (s *countingSource) ReadAt(p []byte, off int64) (int, error) {
	n, err := s.Reader.ReadAt(p, off)
	s.read += n
	s.largest = max(s.largest, len(p))
	return n, err
}

// A raw message stored from a reader gives the same rows as the same
// bytes stored from memory, is read one chunk at a time, and reads back
// byte for byte; a source that holds fewer bytes than it claims is an
// error, and rolls the message back.
func TestRawFromSource(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	big := make([]byte, 3*rawChunk+777)
	for i := range big {
		big[i] = byte(i*31 + i>>9)
	}
	// rows returns the stored raw column, raw_size and chunk rows of a message.
	rows := func(tx *Txn, id int64) (inline []byte, size int64, chunks [][]byte) {
		if err := tx.row("SELECT raw, raw_size FROM messages WHERE id = ?", id).Scan(&inline, &size); err != nil {
			t.Fatal(err)
		}
		r, err := tx.query("SELECT data FROM message_chunks WHERE message = ? ORDER BY seq", id)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for r.Next() {
			var b []byte
			if err := r.Scan(&b); err != nil {
				t.Fatal(err)
			}
			chunks = append(chunks, b)
		}
		return inline, size, chunks
	}
	uid := uint32(0)
	for _, raw := range [][]byte{big, big[:rawChunk], big[:rawChunk+1], []byte("From: a@b.test\r\n\r\nsmall\r\n"), {}} {
		t.Run(fmt.Sprint(len(raw)), func(t *testing.T) {
			err := db.Tx(ctx, func(tx *Txn) error {
				uid += 2
				mem := &StoredMessage{Mailbox: "INBOX", UIDValidity: 1, UID: uid, Hash: "h", ReceivedAt: time.Now(), Raw: raw}
				src := &countingSource{Reader: bytes.NewReader(raw)}
				fromReader := &StoredMessage{Mailbox: "INBOX", UIDValidity: 1, UID: uid + 1, Hash: "h", ReceivedAt: time.Now(), RawFrom: src}
				if err := tx.InsertMessage(mem); err != nil {
					return err
				}
				if err := tx.InsertMessage(fromReader); err != nil {
					return err
				}
				if src.read != len(raw) || src.largest > rawChunk || fromReader.Raw != nil || fromReader.Size != len(raw) {
					t.Errorf("read %d bytes, at most %d at a time; Raw %d bytes, Size %d", src.read, src.largest, len(fromReader.Raw), fromReader.Size)
				}
				wi, ws, wc := rows(tx, mem.ID)
				gi, gs, gc := rows(tx, fromReader.ID)
				if !bytes.Equal(gi, wi) || gs != ws || len(gc) != len(wc) {
					t.Fatalf("rows differ: inline %d/%d bytes, size %d/%d, %d/%d chunks", len(gi), len(wi), gs, ws, len(gc), len(wc))
				}
				for i := range gc {
					if !bytes.Equal(gc[i], wc[i]) {
						t.Errorf("chunk %d differs", i)
					}
				}
				got, err := tx.Message(fromReader.ID)
				if err != nil {
					return err
				}
				if !bytes.Equal(got.Raw, raw) || got.Size != len(raw) {
					t.Errorf("%d bytes stored, %d read back", len(raw), len(got.Raw))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, raw := range [][]byte{big, []byte("From: a@b.test\r\n\r\nsmall\r\n")} {
		err := db.Tx(ctx, func(tx *Txn) error {
			return tx.InsertMessage(&StoredMessage{Mailbox: "INBOX", UIDValidity: 2, UID: 1, Hash: "h", ReceivedAt: time.Now(),
				RawFrom: shortSource{bytes.NewReader(raw)}})
		})
		if err == nil {
			t.Errorf("%d bytes short of their size: stored", len(raw))
		}
	}
	err := db.Read(ctx, func(tx *Txn) error {
		var n int
		if err := tx.row("SELECT COUNT(*) FROM messages WHERE uidvalidity = 2").Scan(&n); err != nil || n != 0 {
			t.Errorf("%d messages of a failed insert stored (%v)", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
