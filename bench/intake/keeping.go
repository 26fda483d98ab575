package main

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"helpdeskd/mailin"
	"helpdeskd/store"
)

// keepingAlone is the least an import of this design (this parser, the
// raw mail kept in SQLite) must do to keep each mail, as one pipeline on
// the same machine and the same mailbox: one go-imap
// FETCH of user's whole INBOX, each mail read into memory and parsed on
// every core (mailin.ParseMeta, as the import parses), and its raw copy
// inserted into the messages table of a new database with the
// import's schema (its indexes by folder and UID, Message-ID and hash:
// what finds a mail again), chunk mails a transaction, by one writer
// with the store's pragmas. No case, event, timer or outbox row, no
// decision, no checkpoint while it runs; a large mail is stored
// inline, not in chunks. The three stages overlap as the import's do.
//
// It is a floor for the import's ratio: the import does all of this and
// more (it threads, opens cases, renders and queues their mail), so its
// ratio is not below this one's: both are bound by the CPU of the same
// two cores, and the import spends more of it. (A timer around the
// writer's wait, once, found it waiting for the parsers about half of
// the time.)
func (s *stack) keepingAlone(ctx context.Context, user, path string, chunk int) (time.Duration, int, error) {
	removeDB(path)
	defer removeDB(path)
	db, err := store.Open(ctx, path) // the schema
	if err != nil {
		return 0, 0, err
	}
	if err := db.Close(); err != nil {
		return 0, 0, err
	}
	out, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=wal_autocheckpoint(0)&_txlock=immediate")
	if err != nil {
		return 0, 0, err
	}
	defer out.Close()
	out.SetMaxOpenConns(1)
	ins, err := out.PrepareContext(ctx, `INSERT INTO messages (mailbox, uidvalidity, uid, message_id, hash, from_addr, subject, received_at, raw, raw_size)
		VALUES ('INBOX', 1, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return 0, 0, err
	}
	defer ins.Close()

	c, err := s.login(user)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()

	type mail struct {
		uid  imap.UID
		raw  []byte
		meta *mailin.Message
		err  error
		done chan struct{} // closed when parsed
	}
	fetched := make(chan *mail, 2*chunk) // to the parsers
	ordered := make(chan *mail, 2*chunk) // to the writer, in FETCH order
	var fetchErr error
	var parsers sync.WaitGroup
	t0 := time.Now()
	go func() {
		defer close(fetched)
		defer close(ordered)
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			fetchErr = err
			return
		}
		var all imap.UIDSet
		all.AddRange(1, 0)
		cmd := c.Fetch(all, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			m := &mail{done: make(chan struct{})}
			for it := msg.Next(); it != nil; it = msg.Next() {
				switch it := it.(type) {
				case imapclient.FetchItemDataUID:
					m.uid = it.UID
				case imapclient.FetchItemDataBodySection:
					if it.Literal != nil {
						raw, err := mailin.ReadLiteral(it.Literal) // as the import's fetcher
						if err != nil {
							fetchErr = err
							return
						}
						m.raw = raw
					}
				}
			}
			if m.raw == nil {
				continue // as the import, a response without the message
			}
			ordered <- m
			fetched <- m
		}
		fetchErr = cmd.Close()
	}()
	for range runtime.GOMAXPROCS(0) {
		parsers.Go(func() {
			for m := range fetched {
				m.meta, m.err = mailin.ParseMeta(m.raw, mailin.ParseOptions{MaxAttachment: 25 << 20})
				close(m.done)
			}
		})
	}
	var tx *sql.Tx
	var st *sql.Stmt
	n := 0
	write := func() error {
		for m := range ordered {
			<-m.done
			if m.err != nil {
				return m.err
			}
			if tx == nil {
				var err error
				if tx, err = out.BeginTx(ctx, nil); err != nil {
					return err
				}
				st = tx.StmtContext(ctx, ins)
			}
			if _, err := st.ExecContext(ctx, int64(m.uid), m.meta.MessageID, m.meta.Hash, m.meta.From.Addr, m.meta.Subject,
				time.Now().UnixMilli(), m.raw, len(m.raw)); err != nil {
				return err
			}
			if n++; n%chunk == 0 {
				if err := tx.Commit(); err != nil {
					return err
				}
				tx = nil
			}
		}
		if tx != nil {
			return tx.Commit()
		}
		return nil
	}
	err = write()
	if err != nil {
		if tx != nil {
			tx.Rollback()
		}
		c.Close() // ends the FETCH, whose mail is drained below
	}
	for range ordered { // let the fetcher end if the writer stopped early
	}
	parsers.Wait()
	took := time.Since(t0)
	if err == nil {
		err = fetchErr
	}
	if err != nil {
		return 0, 0, fmt.Errorf("keeping alone: %w", err)
	}
	return took, n, nil
}
