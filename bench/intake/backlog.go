package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
)

// backlogFigures measures the first start on a full mailbox (issue 9,
// SPEC §11.1): -n mails six weeks old by INTERNALDATE plus 20 new ones in
// support@'s INBOX; serve's first sync must archive the old ones and
// answer only the new. It prints the time to the summary line, the mails
// queued (by kind: only the 20 acknowledgements and their notifications
// may go out), and serve's peak RSS.
func (b *bench) backlogFigures(ctx context.Context) error {
	for _, f := range []string{"INBOX", "Processed"} {
		if err := b.stack.clear(support, f); err != nil {
			return err
		}
	}
	old := generate(*nMails, *seed, time.Now().Add(-42*24*time.Hour))
	var raws [][]byte
	for _, m := range old {
		raws = append(raws, m.raw)
	}
	if err := b.stack.appendAll(support, raws, time.Now().Add(-42*24*time.Hour)); err != nil {
		return err
	}
	var fresh [][]byte
	for _, m := range generate(40, *seed+7, time.Now().Add(-time.Hour)) {
		if m.newCase && len(fresh) < 20 {
			fresh = append(fresh, m.raw)
		}
	}
	if err := b.stack.appendAll(support, fresh, time.Now().Add(-time.Hour)); err != nil {
		return err
	}
	floor, _, err := b.stack.bareFetch(support)
	if err != nil {
		return err
	}
	db := filepath.Join(b.dir, "backlog.db")
	removeDB(db)
	cfg, err := b.writeConfig("backlog", support, b.sink.addr, db, 25)
	if err != nil {
		return err
	}
	took, peak, summary, _, err := b.firstSync(ctx, cfg)
	if err != nil {
		return err
	}
	q, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		return err
	}
	defer q.Close()
	rows, err := q.Query("SELECT kind, COUNT(*) FROM outbox GROUP BY kind")
	if err != nil {
		return err
	}
	var kinds []string
	total := 0
	for rows.Next() {
		var k string
		var n int
		rows.Scan(&k, &n)
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
		total += n
	}
	rows.Close()
	sort.Strings(kinds)
	var imported int
	q.QueryRow("SELECT COUNT(*) FROM events WHERE kind = 'imported'").Scan(&imported)
	figure("backlog: to the summary", took.Seconds(), floor.Seconds(), "s",
		fmt.Sprintf("(%d old + %d new mails; baseline: bare go-imap FETCH; %s)", len(raws), len(fresh), summaryCounts(summary)), "—")
	figure("backlog: mails queued", float64(total), float64(len(fresh)), "mails",
		fmt.Sprintf("(baseline: the new mails; %s; %d cases imported)", strings.Join(kinds, " "), imported), "acks = new")
	figure("backlog: peak RSS", mib(peak), 80, "MiB", "(baseline: the 80 MiB import target)", "< 80 MiB")
	return nil
}

// clear deletes every message of a folder of user (a missing folder is
// empty).
func (s *stack) clear(user, folder string) error {
	c, err := s.login(user)
	if err != nil {
		return err
	}
	defer c.Close()
	sel, err := c.Select(folder, nil).Wait()
	if err != nil || sel.NumMessages == 0 {
		return nil
	}
	var all imap.SeqSet
	all.AddRange(1, 0)
	if err := c.Store(all, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		return err
	}
	return c.Expunge().Close()
}
