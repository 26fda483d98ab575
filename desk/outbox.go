package desk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"helpdeskd/cases"
	"helpdeskd/mailin"
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
			items = append(items, mailout.Item{Mail: q.Mail, Attempts: q.Attempts, Broken: q.Broken})
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

// Attempt records attempts in one transaction; a mail no longer pending
// is left out.
func (o outbox) Attempt(ctx context.Context, as []mailout.Attempt) ([]bool, error) {
	ok := make([]bool, len(as))
	err := o.d.db.Tx(ctx, func(t *store.Txn) error {
		for i, a := range as {
			err := t.StartAttempt(a.ID, a.N, a.At, a.Next)
			if err != nil && !errors.Is(err, store.ErrNotPending) {
				return err
			}
			ok[i] = err == nil
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ok, nil
}

// attempt is how an attempt's result is kept on its outbox row.
func attempt(r mailout.Result) store.Attempt {
	a := store.Attempt{N: r.Attempt, At: r.At, Code: r.Code, Enhanced: r.Enhanced, Response: r.Response}
	if r.Err != nil {
		a.Temporary, a.Error = r.Err.Temporary, r.Err.Error()
	}
	return a
}

// Sent records sent mails in one transaction. A mail found no longer
// pending had its outcome recorded already (a commit that reported an
// error but took place): recording it again is not an error.
func (o outbox) Sent(ctx context.Context, sent []mailout.SentMail) error {
	return o.d.db.Tx(ctx, func(t *store.Txn) error {
		for _, m := range sent {
			// A mail no longer pending was recorded already.
			if err := t.MarkSent(m.ID, attempt(m.Result)); err != nil && !errors.Is(err, store.ErrNotPending) {
				return err
			}
		}
		return nil
	})
}

func (o outbox) Retry(ctx context.Context, id int64, r mailout.Result, next time.Time) error {
	err := o.d.db.Tx(ctx, func(t *store.Txn) error { return t.MarkRetry(id, attempt(r), next) })
	if errors.Is(err, store.ErrNotPending) {
		return nil
	}
	return err
}

// Failed records a permanent failure on the row and on the case, with the
// SMTP code and enhanced status in the delivery_failed event, and tells
// its engineer and the customer service managers (SPEC §7), as cases
// decides.
func (o outbox) Failed(ctx context.Context, it mailout.Item, r mailout.Result) error {
	d := o.d
	err := d.tx(ctx, func(t *store.Txn, ch *change) error {
		if err := t.MarkFailed(it.Mail.ID, attempt(r)); err != nil {
			return err
		}
		if it.Mail.Case == 0 {
			return nil
		}
		c, err := t.Case(it.Mail.Case)
		if err != nil {
			return err
		}
		// The enhanced status and the server's words (with the reply
		// code and the SMTP stage) go to the delivery_failed event.
		ev := cases.DeliveryFailed{Kind: it.Mail.Kind, Rcpt: strings.Join(it.Mail.To, ", "), Status: r.Enhanced,
			Diagnostic: mailout.Describe(r.Err)}
		if len(it.Mail.To) == 1 {
			ev.Rcpt = it.Mail.To[0]
		}
		return d.decide(t, ch, c, ev, &step{})
	})
	if errors.Is(err, store.ErrNotPending) {
		return nil
	}
	return err
}

func (o outbox) Attachment(ctx context.Context, id int64) (mailout.File, error) {
	var f mailout.File
	err := o.d.db.Read(ctx, func(t *store.Txn) error {
		a, err := t.Attachment(id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("attachment %d: %w", id, mailout.ErrNoAttachment)
		}
		if err != nil {
			return err
		}
		f = mailout.File{Name: a.Filename, ContentType: a.ContentType, Data: a.Data}
		if a.Part < 0 {
			return nil
		}
		// The bytes are found again in the stored raw message, read where
		// it is stored: a large one is never held (issue 10).
		src, err := t.MessageSource(a.Message)
		if err != nil {
			return err
		}
		opts := mailin.ParseOptions{MaxAttachment: o.d.cfg.Mailbox.MaxAttachment}
		extract := func(w io.Writer) error {
			err := mailin.ExtractAttachment(w, src, src.Size(), a.Part, a.Filename, a.Size, opts)
			if !errors.Is(err, mailin.ErrTooLarge) {
				return err
			}
			// A mail stored without being spooled, of a structure that
			// must be read whole: as before, whole.
			m, err := t.Message(a.Message)
			if err != nil {
				return err
			}
			x, err := mailin.AttachmentData(m.Raw, a.Part, a.Filename, a.Size, opts)
			if err == nil {
				_, err = w.Write(x.Data)
			}
			return err
		}
		if a.Size <= inMemoryAttachment {
			var b bytes.Buffer
			err := extract(&b)
			f.Data = b.Bytes()
			return err
		}
		body, err := o.d.tempFile()
		if err != nil {
			return err
		}
		if err := extract(body); err != nil {
			body.Close()
			return err
		}
		if _, err := body.Seek(0, io.SeekStart); err != nil {
			body.Close()
			return err
		}
		f.Body = body
		return nil
	})
	return f, err
}

// inMemoryAttachment is the largest attachment relayed from memory; a
// larger one is written to a temporary file and sent from there.
const inMemoryAttachment = 1 << 20

// tempFile returns a new file for a large attachment being relayed, in
// the spool directory (config.Database.SpoolDir) when there is one. It
// is removed from the directory at once: its bytes live until it is
// closed, and a crash leaves nothing behind.
func (d *Desk) tempFile() (*os.File, error) {
	dir := os.TempDir()
	if sd := d.cfg.Database.SpoolDir(); sd != "" {
		dir = sd
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("attachment file: %w", err)
		}
	}
	f, err := os.CreateTemp(dir, "relay-*")
	if err != nil {
		return nil, fmt.Errorf("attachment file: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("attachment file: %w", err)
	}
	return f, nil
}
