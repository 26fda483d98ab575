package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"helpdeskd/store"
)

// cmdQuarantine lists unreadable messages, or replays one through intake
// (SPEC §2). Replies a replay causes are queued; a running daemon sends them.
func cmdQuarantine(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("quarantine: want list or replay ID")
	}
	switch args[0] {
	case "list":
		fs, cfgPath := newFlags("quarantine list")
		asJSON := fs.Bool("json", false, "print JSON")
		if err := noArgs(fs, args[1:]); err != nil {
			return err
		}
		cfg, db, err := openRead(*cfgPath)
		if err != nil {
			return err
		}
		defer db.Close()
		var list []store.StoredMessage
		if err := db.Read(context.Background(), func(t *store.Txn) error {
			list, err = t.QuarantinedMessages()
			return err
		}); err != nil {
			return err
		}
		type entry struct {
			ID         int64  `json:"id"`
			ReceivedAt string `json:"received_at"`
			Mailbox    string `json:"mailbox"`
			UID        uint32 `json:"uid"`
			Size       int    `json:"size"`
			Problem    string `json:"problem"`
			Text       string `json:"text,omitempty"` // what could be read: the subject, or a mail's text without header
		}
		out := []entry{}
		for _, m := range list {
			out = append(out, entry{m.ID, m.ReceivedAt.Format(time.RFC3339), m.Mailbox, m.UID, m.Size, m.Problems, m.Subject})
		}
		if *asJSON {
			return writeJSON(stdout, out)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tRECEIVED\tMAILBOX\tUID\tSIZE\tPROBLEM\tTEXT")
		for i, e := range out {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%s\t%s\n", e.ID, textTime(list[i].ReceivedAt, cfg.Display.Location), e.Mailbox, e.UID, e.Size, e.Problem, e.Text)
		}
		return tw.Flush()
	case "replay":
		fs, cfgPath := newFlags("quarantine replay")
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usagef("quarantine replay: want exactly one message id (see quarantine list)")
		}
		id, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil || id <= 0 {
			return usagef("quarantine replay: %q is not a message id", pos[0])
		}
		_, db, d, err := openDesk(*cfgPath)
		if err != nil {
			return err
		}
		defer db.Close()
		n, err := d.Replay(context.Background(), id)
		if err != nil {
			return err
		}
		if n == 0 {
			fmt.Fprintf(stdout, "message %d replayed; it belongs to no case\n", id)
		} else {
			fmt.Fprintf(stdout, "message %d replayed into case %d\n", id, n)
		}
		return nil
	}
	return usagef("quarantine: unknown subcommand %q (want list or replay)", args[0])
}
