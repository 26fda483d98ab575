package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"helpdeskd/cases"
	"helpdeskd/config"
	"helpdeskd/desk"
	"helpdeskd/mailin"
	"helpdeskd/mailout"
	"helpdeskd/store"
	"helpdeskd/templates"
)

// deskRef is the desk the workers use, swapped whole when the
// configuration is reloaded (SIGHUP). Each worker reads it once per mail,
// timer or send, so every event is handled under one configuration; a
// desk never sees its configuration change under it.
type deskRef struct {
	p     atomic.Pointer[desk.Desk]
	sched atomic.Pointer[desk.Scheduler]
	// reloaded tells the timer loop to start a scheduler on the new desk.
	reloaded chan struct{}
}

var (
	_ mailin.Sink  = (*deskRef)(nil)
	_ mailin.State = (*deskRef)(nil)
)

func (r *deskRef) cur() *desk.Desk { return r.p.Load() }

// wakeTimers wakes the scheduler of the current desk.
func (r *deskRef) wakeTimers() {
	if s := r.sched.Load(); s != nil {
		s.Wake()
	}
}

// Deliver, MailboxState, ResetMailbox and Quarantined make deskRef the
// fetcher's Sink and State.
var _ mailin.Preparer = (*deskRef)(nil)

// Prepare has the desk parse a chunk ahead of its delivery.
func (r *deskRef) Prepare(mails []mailin.Mail) { r.cur().Prepare(mails) }

func (r *deskRef) Deliver(ctx context.Context, mails []mailin.Mail) ([]mailin.Outcome, error) {
	outs, err := r.cur().Deliver(ctx, mails)
	mailInTotal.Add(float64(len(outs)))
	return outs, err
}

func (r *deskRef) MailboxState(ctx context.Context, mailbox string) (uint32, uint32, error) {
	return r.cur().MailboxState(ctx, mailbox)
}

func (r *deskRef) ResetMailbox(ctx context.Context, mailbox string, uidvalidity uint32) error {
	return r.cur().ResetMailbox(ctx, mailbox, uidvalidity)
}

func (r *deskRef) FirstSync(ctx context.Context, mailbox string) (time.Time, uint32, error) {
	return r.cur().FirstSync(ctx, mailbox)
}

func (r *deskRef) BeginFirstSync(ctx context.Context, mailbox string, uidvalidity uint32, start time.Time, end uint32) error {
	return r.cur().BeginFirstSync(ctx, mailbox, uidvalidity, start, end)
}

func (r *deskRef) EndFirstSync(ctx context.Context, mailbox string) error {
	return r.cur().EndFirstSync(ctx, mailbox)
}

func (r *deskRef) Quarantined(ctx context.Context, p mailin.Place) (bool, error) {
	return r.cur().Quarantined(ctx, p)
}

// outbox is the current desk's outbox.
func (r *deskRef) outbox() mailout.Outbox { return refOutbox{r} }

type refOutbox struct{ r *deskRef }

var _ mailout.Outbox = refOutbox{}

func (o refOutbox) Due(ctx context.Context, now time.Time, limit int) ([]mailout.Item, error) {
	return o.r.cur().Outbox().Due(ctx, now, limit)
}

func (o refOutbox) Next(ctx context.Context) (time.Time, bool, error) {
	return o.r.cur().Outbox().Next(ctx)
}

func (o refOutbox) Attempt(ctx context.Context, as []mailout.Attempt) ([]bool, error) {
	return o.r.cur().Outbox().Attempt(ctx, as)
}

func (o refOutbox) Sent(ctx context.Context, sent []mailout.SentMail) error {
	return o.r.cur().Outbox().Sent(ctx, sent)
}

func (o refOutbox) Retry(ctx context.Context, id int64, r mailout.Result, next time.Time) error {
	return o.r.cur().Outbox().Retry(ctx, id, r, next)
}

func (o refOutbox) Failed(ctx context.Context, it mailout.Item, r mailout.Result) error {
	return o.r.cur().Outbox().Failed(ctx, it, r)
}

func (o refOutbox) Attachment(ctx context.Context, id int64) (mailout.File, error) {
	return o.r.cur().Outbox().Attachment(ctx, id)
}

// runTimers runs a scheduler on the current desk until ctx is done, and
// replaces it with one on the new desk after each reload.
func (r *deskRef) runTimers(ctx context.Context, now func() time.Time, log *slog.Logger) error {
	for {
		s := desk.NewScheduler(r.cur(), now, log)
		r.sched.Store(s)
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- s.Run(sctx) }()
		select {
		case <-ctx.Done():
			cancel()
			return <-done
		case <-r.reloaded:
			cancel()
			if err := <-done; err != nil {
				return err
			}
		}
	}
}

// builder makes a desk from a configuration, wired to the workers.
type builder struct {
	db      *store.DB
	opts    Options
	log     *slog.Logger
	kick    func()
	wake    func()
	onEvent func(cases.Event)
}

func (b *builder) desk(cfg *config.Config) (*desk.Desk, error) {
	tmpl, err := templates.Load(cfg.Templates.Dir)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	d := desk.New(cfg, b.db, tmpl, desk.Options{Now: b.opts.Now, Logger: b.log})
	d.Kick, d.WakeTimers, d.OnEvent = b.kick, b.wake, b.onEvent
	return d, nil
}

// reload reads the configuration file again, validates it and its
// templates, and on success makes the workers use it. On any error the
// running configuration stays. Settings read only at start (the
// connections, the database, the HTTP listener) are kept, with a warning.
func reload(old *config.Config, ref *deskRef, b *builder) (*config.Config, error) {
	if old.Path == "" {
		return old, errors.New("the configuration was not read from a file")
	}
	cfg, err := config.Load(old.Path)
	if err == nil {
		err = cfg.CheckSecrets()
	}
	if err != nil {
		return old, fmt.Errorf("reload %s: %w", old.Path, err)
	}
	d, err := b.desk(cfg)
	if err != nil {
		return old, fmt.Errorf("reload %s: %w", old.Path, err)
	}
	for _, k := range restartKeys(old, cfg) {
		b.log.Warn("config change needs a restart", "key", k)
	}
	ref.p.Store(d)
	select {
	case ref.reloaded <- struct{}{}:
	default:
	}
	return cfg, nil
}

// restartKeys names the settings that differ but only take effect at the
// next start.
func restartKeys(a, b *config.Config) []string {
	var out []string
	if a.Mailbox != b.Mailbox {
		out = append(out, "mailbox")
	}
	if a.SMTP.Address != b.SMTP.Address || a.SMTP.TLS != b.SMTP.TLS || a.SMTP.Username != b.SMTP.Username ||
		a.SMTP.Password != b.SMTP.Password || a.SMTP.HELO != b.SMTP.HELO || a.SMTP.From.String() != b.SMTP.From.String() {
		out = append(out, "smtp")
	}
	if a.Database != b.Database {
		out = append(out, "database.path")
	}
	if a.HTTP != b.HTTP {
		out = append(out, "http.listen")
	}
	return out
}
