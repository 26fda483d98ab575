// Package desk runs the help desk: it takes each incoming mail, each
// hotline call and each due timer, asks package cases what to do, and
// commits the case change, its events, its timers and the mail it causes
// in one store transaction (SPEC §7). It also serves the outbox to the
// sender in mailout.
//
// It owns the order of those steps, not the rules: threading, routing,
// deadlines and the reply schedule are in cases; SQL is in store; MIME is
// in mailout.
package desk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"

	"helpdeskd/cases"
	"helpdeskd/config"
	"helpdeskd/mailin"
	"helpdeskd/replytext"
	"helpdeskd/store"
	"helpdeskd/templates"
)

// Desk is the running help desk. Create it with New.
type Desk struct {
	cfg    *config.Config
	db     *store.DB
	tmpl   *templates.Set
	th     *cases.Threader
	now    func() time.Time
	log    *slog.Logger
	domain string

	// Kick wakes the mail sender; WakeTimers wakes the scheduler. Both
	// must not block. Nil means nothing to wake.
	Kick       func()
	WakeTimers func()
	// OnEvent, if set, sees every event as it is committed (for the demo).
	OnEvent func(cases.Event)
}

// Options configure a Desk. The zero value of Now is time.Now and of
// Logger slog.Default().
type Options struct {
	Now    func() time.Time
	Logger *slog.Logger
}

// New returns a Desk.
func New(cfg *config.Config, db *store.DB, tmpl *templates.Set, opts Options) *Desk {
	d := &Desk{cfg: cfg, db: db, tmpl: tmpl, th: cases.NewThreader(cfg.Threading.Tag), now: opts.Now, log: opts.Logger}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	_, d.domain, _ = strings.Cut(cfg.SMTP.From.Address, "@")
	return d
}

// Threader returns the desk's subject token handling.
func (d *Desk) Threader() *cases.Threader { return d.th }

// change collects what one transaction did, to act on after commit.
type change struct {
	events []cases.Event
	mail   bool
	timers bool
}

// tx runs fn in a write transaction and, after commit, wakes the sender
// and scheduler and reports events.
func (d *Desk) tx(ctx context.Context, fn func(t *store.Txn, ch *change) error) error {
	var ch change
	err := d.db.Tx(ctx, func(t *store.Txn) error {
		ch = change{}
		return fn(t, &ch)
	})
	if err != nil {
		return err
	}
	if ch.mail && d.Kick != nil {
		d.Kick()
	}
	if ch.timers && d.WakeTimers != nil {
		d.WakeTimers()
	}
	for _, e := range ch.events {
		d.logEvent(e)
		if d.OnEvent != nil {
			d.OnEvent(e)
		}
	}
	return nil
}

func (d *Desk) event(t *store.Txn, ch *change, c *cases.Case, kind, actor, detail string) error {
	return d.eventAt(t, ch, c, time.Time{}, kind, actor, detail)
}

// eventAt records an event at the time the decision gave it (zero: now).
func (d *Desk) eventAt(t *store.Txn, ch *change, c *cases.Case, at time.Time, kind, actor, detail string) error {
	if at.IsZero() {
		at = d.now()
	}
	e := cases.Event{Case: c.Number, At: at, Kind: kind, Actor: actor, Detail: detail}
	if err := t.AddEvent(e); err != nil {
		return err
	}
	ch.events = append(ch.events, e)
	return nil
}

func (d *Desk) newID(n int64, kind string) string {
	var b [8]byte
	rand.Read(b[:])
	return cases.MessageID(n, kind, hex.EncodeToString(b[:]), d.domain)
}

// loc is where people read times: [display] timezone (SPEC §11.5).
func (d *Desk) loc() *time.Location {
	if d.cfg.Display.Location != nil {
		return d.cfg.Display.Location
	}
	return time.Local
}

func (d *Desk) fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(d.loc()).Format("2006-01-02 15:04 -07:00")
}

func (d *Desk) staffName(email string) string {
	if s, ok := d.cfg.StaffByEmail(email); ok {
		return s.Name
	}
	return email
}

var statusText = map[string]map[string]string{
	"zh": {cases.StatusOpen: "处理中", cases.StatusResolved: "已处理，待您确认", cases.StatusClosed: "已关闭"},
	"en": {cases.StatusOpen: "in progress", cases.StatusResolved: "resolved, waiting for your confirmation", cases.StatusClosed: "closed"},
}

func (d *Desk) view(c *cases.Case) templates.CaseView {
	lang := c.Language
	if lang != "en" {
		lang = "zh"
	}
	eng := d.staffName(c.Engineer)
	if c.Engineer == "" {
		eng = "-"
	}
	return templates.CaseView{
		Number: c.Number, Token: d.th.Token(c.Number), Subject: d.th.Subject(c.Number, c.Subject),
		Severity: c.Severity, Priority: c.Priority, Status: c.Status, StatusText: statusText[lang][c.Status],
		Engineer: c.Engineer, EngineerName: eng, Company: c.Company, ContactName: c.ContactName,
		ContactEmail: c.ContactEmail, ContactPhone: c.ContactPhone, Region: c.Region, Description: c.Description,
		OpenedAt: d.fmtTime(c.OpenedAt), RespondBy: d.fmtTime(c.RespondBy),
		SolveOnlineBy: d.fmtTime(c.SolveOnlineBy), OnsiteBy: d.fmtTime(c.OnsiteBy),
	}
}

// liaison is the foreign-liaison contact of a case's customer, if the
// customer is foreign (SPEC §1.3).
func (d *Desk) liaison(c *cases.Case) templates.Person {
	if s, ok := cases.Liaison(d.cfg, c); ok {
		return templates.Person{Name: s.Name, Email: s.Email}
	}
	return templates.Person{}
}

func orStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// bodyText is the readable text of a message: its text/plain part, or its
// HTML converted.
func bodyText(m *mailin.Message) string {
	if strings.TrimSpace(m.Text) != "" {
		return strings.TrimSpace(strings.ReplaceAll(m.Text, "\r\n", "\n"))
	}
	if m.HTML != "" {
		return strings.TrimSpace(replytext.HTMLToText(m.HTML))
	}
	return ""
}

// ErrUnknownCustomer is returned by OpenCase for an unknown company.
var ErrUnknownCustomer = cases.ErrUnknownCustomer

// supportLine is the support address as signed under mails: "Name <addr>".
func (d *Desk) supportLine() string {
	f := d.cfg.SMTP.From
	if f.Name == "" {
		return f.Address
	}
	return f.Name + " <" + f.Address + ">"
}
