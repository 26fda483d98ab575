package desk

import (
	"context"
	"errors"
	"fmt"

	"helpdeskd/mailin"
	"helpdeskd/store"
)

// ErrNotQuarantined is returned by Replay for a message that is not in
// quarantine (already replayed, or never quarantined).
var ErrNotQuarantined = errors.New("not a quarantined message")

// Replay runs a quarantined message through intake again, for example
// after an upgrade that reads what the old version could not (SPEC §2).
// The message is handled as if it had just arrived (threaded, a case
// opened or updated, replies queued); the quarantined copy stays stored,
// marked "replayed". It returns the case the message went to (0 if none,
// e.g. automatic mail).
func (d *Desk) Replay(ctx context.Context, id int64) (int64, error) {
	var n int64
	err := d.tx(ctx, func(t *store.Txn, ch *change) error {
		matched, err := t.MessageMatched(id)
		if err != nil {
			return fmt.Errorf("message %d: %w", id, err)
		}
		if matched != "quarantine" {
			return fmt.Errorf("message %d: %w", id, ErrNotQuarantined)
		}
		// Read where it is stored, as a spooled mail is: a large one is
		// never held whole (issue 10).
		src, err := t.MessageSource(id)
		if err != nil {
			return fmt.Errorf("message %d: %w", id, err)
		}
		m := mailin.Mail{Spool: src}
		p := d.parse(m, false)
		if errors.Is(p.err, mailin.ErrTooLarge) {
			// Too large for intake to read whole, which is why it was
			// quarantined; a replay is an admin's command in its own
			// process, and reads it whole as before.
			sm, err := t.Message(id)
			if err != nil {
				return fmt.Errorf("message %d: %w", id, err)
			}
			m = mailin.Mail{Raw: sm.Raw}
			p = d.parse(m, false)
		}
		if p.err != nil {
			return fmt.Errorf("message %d is still unreadable: %w", id, p.err)
		}
		place := mailin.Place{Mailbox: "replay", UID: uint32(id)}
		if _, err := d.ingest(t, ch, place, bytesOf(m), p); err != nil {
			return err
		}
		if err := t.SetMatched(id, "replayed"); err != nil {
			return err
		}
		for _, e := range ch.events {
			n = e.Case
		}
		return nil
	})
	return n, err
}
