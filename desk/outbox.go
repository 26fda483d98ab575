package desk

import (
	"context"
	"strings"
	"time"

	"helpdeskd/cases"
	"helpdeskd/mailout"
	"helpdeskd/store"
)

// Outbox serves the desk's outbox to a mailout.Sender.
func (d *Desk) Outbox() mailout.Outbox { return outbox{d} }

type outbox struct{ d *Desk }

var _ mailout.Outbox = outbox{}

func (o outbox) Due(ctx context.Context, now time.Time, limit int) ([]mailout.Item, error) {
	var items []mailout.Item
	err := o.d.db.Read(ctx, func(t *store.Txn) error {
		qs, err := t.DueMail(now, limit)
		for _, q := range qs {
			items = append(items, mailout.Item{Mail: q.Mail, Attempts: q.Attempts})
		}
		return err
	})
	return items, err
}

func (o outbox) Next(ctx context.Context) (next time.Time, ok bool, err error) {
	err = o.d.db.Read(ctx, func(t *store.Txn) error {
		next, ok, err = t.NextMail()
		return err
	})
	return
}

func (o outbox) Sent(ctx context.Context, id int64, now time.Time) error {
	return o.d.db.Tx(ctx, func(t *store.Txn) error { return t.MarkSent(id, now) })
}

func (o outbox) Retry(ctx context.Context, id int64, next time.Time, reason string) error {
	return o.d.db.Tx(ctx, func(t *store.Txn) error { return t.MarkRetry(id, next, reason) })
}

// Failed records a permanent failure on the case and tells its engineer
// and the customer service managers (SPEC §7), as cases decides.
func (o outbox) Failed(ctx context.Context, it mailout.Item, reason string, now time.Time) error {
	d := o.d
	return d.tx(ctx, func(t *store.Txn, ch *change) error {
		if err := t.MarkFailed(it.Mail.ID, reason); err != nil {
			return err
		}
		if it.Mail.Case == 0 {
			return nil
		}
		c, err := t.Case(it.Mail.Case)
		if err != nil {
			return err
		}
		ev := cases.DeliveryFailed{Kind: it.Mail.Kind, Rcpt: strings.Join(it.Mail.To, ", "), Diagnostic: reason}
		if len(it.Mail.To) == 1 {
			ev.Rcpt = it.Mail.To[0]
		}
		return d.decide(t, ch, c, ev, &step{})
	})
}

func (o outbox) Attachment(ctx context.Context, id int64) (mailout.File, error) {
	var f mailout.File
	err := o.d.db.Read(ctx, func(t *store.Txn) error {
		a, err := t.Attachment(id)
		if err != nil {
			return err
		}
		f = mailout.File{Name: a.Filename, ContentType: a.ContentType, Data: a.Data}
		return nil
	})
	return f, err
}
