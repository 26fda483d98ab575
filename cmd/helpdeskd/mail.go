package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"helpdeskd/store"
)

// keptLimit is how many kept mails `mail kept` lists unless told.
const keptLimit = 50

// cmdMail lists mail kept for audit without a case (SPEC §2): our own
// mail coming back, automatic mail that threads into no case, senders
// ignored by [policy] unknown_senders.
func cmdMail(args []string, stdout io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		return flag.ErrHelp
	}
	if len(args) == 0 {
		return usagef("mail: want kept")
	}
	if args[0] != "kept" {
		return usagef("mail: unknown subcommand %q (want kept)", args[0])
	}
	fs, cfgPath := newFlags("mail kept")
	since := fs.String("since", "", "only mail received within `DURATION` before now (e.g. 24h, 90m, 7d)")
	limit := fs.Int("limit", keptLimit, "list at most `N` mails, the newest")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := noArgs(fs, args[1:]); err != nil {
		return err
	}
	var from time.Time
	if *since != "" {
		d, err := sinceDuration(*since)
		if err != nil {
			return usagef("mail kept: --since %q: %v", *since, err)
		}
		from = now().Add(-d)
	}
	if *limit <= 0 {
		return usagef("mail kept: --limit %d: want a positive number", *limit)
	}
	cfg, db, err := openRead(*cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	var list []store.KeptMessage
	if err := db.Read(context.Background(), func(t *store.Txn) error {
		list, err = t.KeptMessages(from, *limit+1) // one more tells whether there are more
		return err
	}); err != nil {
		return err
	}
	more := len(list) > *limit
	if more {
		list = list[:*limit]
	}
	type entry struct {
		ID         int64  `json:"id"`
		ReceivedAt string `json:"received_at"`
		Mailbox    string `json:"mailbox"`
		UID        uint32 `json:"uid"`
		From       string `json:"from"`
		Subject    string `json:"subject"`
		Why        string `json:"why"`
	}
	if *asJSON {
		out := []entry{}
		for _, m := range list {
			out = append(out, entry{m.ID, m.ReceivedAt.Format(time.RFC3339), m.Mailbox, m.UID, m.From, m.Subject, m.Why})
		}
		return writeJSON(stdout, out)
	}
	if len(list) == 0 {
		what := "no mail kept without a case"
		if *since != "" {
			what += " in the last " + *since
		}
		_, err := fmt.Fprintln(stdout, what)
		return err
	}
	tb := table{}
	tb.add("ID", "RECEIVED", "FROM", "WHY", "SUBJECT")
	for _, m := range list {
		tb.add(strconv.FormatInt(m.ID, 10), textTime(m.ReceivedAt, cfg.Display.Location), orDash(m.From), m.Why, orDash(m.Subject))
	}
	if err := tb.write(stdout); err != nil {
		return err
	}
	if more {
		_, err = fmt.Fprintf(stdout, "(the newest %d shown; --limit N or --since DURATION for others)\n", *limit)
	}
	return err
}

// sinceDuration reads a Go duration ("36h", "90m") or a number of days
// ("7d").
func sinceDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 {
			return 0, fmt.Errorf("want a duration such as 24h, 90m or 7d")
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("want a duration such as 24h, 90m or 7d")
	}
	return d, nil
}
