package store

import (
	"context"
	"database/sql"
	"sync"
)

// checkpointer copies the write-ahead log into the database file on a
// connection of its own, so that the writer does not. With SQLite's
// automatic checkpoint the transaction whose commit crosses the
// threshold copies the whole log before it returns: on a first import
// of 10,000 mails that came to a few seconds of the committer's (an
// import without any checkpoint took 13 s against 17 s), none of it in
// the first few hundred mails, so the import slowed down as it went.
//
// Every commit wakes it (wakes while it works coalesce into one), and a
// PASSIVE checkpoint copies what has been committed since the last one,
// up to the oldest snapshot a reader still holds, without waiting for or
// blocking the writer or the readers. Under a first import the
// checkpoints grow to what was committed while the last one ran; when
// mail is quiet, each commit is copied soon after. SQLite restarts the
// log from its beginning at the first write after a checkpoint has
// copied all of it, if no reader holds a snapshot in it then.
//
// Every commit is copied soon after, small ones too, each checkpoint with
// its fsyncs. The sender's small commits pay for that beside the mail
// server's own fsyncs: `bench/outbox -conns 1` was about 10% slower
// (1.38–1.49 against 1.27–1.34; with the default connections the same,
// 1.07 against 1.04). Waiting 100 ms or a second after a checkpoint that
// copied little gave that back but made the first thousand mails of an
// import faster than the rest again (rate 1.22–1.44 over six imports,
// against 0.95–1.22 without the wait), so the checkpointer does not wait.
//
// The writer keeps its automatic checkpoint (writerPragmas): when the log
// reaches 4,000 pages it copies what this connection has not copied yet
// (little, unless it fell behind) and the log restarts, which bounds it.
type checkpointer struct {
	db      *sql.DB
	wake    chan struct{}
	stop    chan struct{}
	done    sync.WaitGroup
	closing sync.Once
	err     error // of closing db
}

func startCheckpointer(db *sql.DB) *checkpointer {
	db.SetMaxOpenConns(1)
	c := &checkpointer{db: db, wake: make(chan struct{}, 1), stop: make(chan struct{})}
	c.done.Add(1)
	go c.run()
	return c
}

// committed tells the checkpointer that the writer committed.
func (c *checkpointer) committed() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	defer c.done.Done()
	for {
		select {
		case <-c.stop:
			return
		case <-c.wake:
		}
		// An error (SQLITE_BUSY while another connection checkpoints, a
		// closed database at shutdown) leaves the log as it is: the next
		// commit wakes another attempt, and the writer's own threshold
		// still bounds it.
		var busy, log, copied int
		err := c.db.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &copied)
		if checkpointHook != nil {
			checkpointHook(log, copied, err)
		}
	}
}

// checkpointHook, if set (by tests, before Open), sees the result of
// every checkpoint: the pages in the log and how many of them are copied.
var checkpointHook func(log, copied int, err error)

// close stops the checkpointer and closes its connection. SQLite
// checkpoints the whole log when the last connection closes.
// A second close returns the first one's error, as sql.DB.Close would.
func (c *checkpointer) close() error {
	c.closing.Do(func() {
		close(c.stop)
		c.done.Wait()
		c.err = c.db.Close()
	})
	return c.err
}
