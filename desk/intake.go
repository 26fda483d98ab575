package desk

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"helpdeskd/cases"
	"helpdeskd/config"
	"helpdeskd/mailin"
	"helpdeskd/mailin/dsn"
	"helpdeskd/replytext"
	"helpdeskd/store"
)

// Place is where a message sits on the IMAP server.
type Place = mailin.Place

var _ mailin.Preparer = (*Desk)(nil)
var _ mailin.Sink = (*Desk)(nil)
var _ mailin.State = (*Desk)(nil)

// Deliver stores a chunk of incoming mail, and everything each mail
// causes, in one transaction, and records their places as processed
// (mailin.Sink). The mails are parsed first, on every core, then handled
// in order: a later mail of the chunk threads into a case an earlier one
// opened. When the chunk's transaction fails, the mails are delivered
// again one transaction each, so the ones before a failing mail are
// committed and the error is that mail's; the outcomes returned are those
// of the committed prefix.
func (d *Desk) Deliver(ctx context.Context, mails []mailin.Mail) ([]mailin.Outcome, error) {
	ps := make([]parsed, len(mails))
	for i, m := range mails {
		p, ok := m.Prepared.(parsed)
		if !ok {
			ps = d.parseAll(mails)
			break
		}
		ps[i] = p
	}
	outs, err := d.deliver(ctx, mails, ps)
	if err == nil || len(mails) == 1 {
		return outs, err
	}
	outs = outs[:0]
	for i := range mails {
		one, err := d.deliver(ctx, mails[i:i+1], ps[i:i+1])
		if err != nil {
			return outs, err
		}
		outs = append(outs, one...)
	}
	return outs, nil
}

// Prepare parses a chunk ahead of its Deliver (mailin.Preparer), on
// every core.
func (d *Desk) Prepare(mails []mailin.Mail) {
	for i, p := range d.parseAll(mails) {
		mails[i].Prepared = p
	}
}

// DeliverMail delivers one mail in its own transaction (Deliver for a
// chunk of one).
func (d *Desk) DeliverMail(ctx context.Context, place Place, raw []byte) (mailin.Outcome, error) {
	outs, err := d.Deliver(ctx, []mailin.Mail{{Place: place, Raw: raw}})
	if err != nil {
		return "", err
	}
	return outs[0], nil
}

// parsed is an incoming mail as the parser read it, with what the
// handling of any mail reads from it worked out beforehand, off the
// transaction.
type parsed struct {
	msg  *mailin.Message
	err  error  // unreadable: the mail goes to quarantine
	text string // what the author wrote, quoted history removed (newText)
	body string // the whole text (bodyText)
	// textDone: text is worked out (always for a reply; see newText).
	textDone bool
	// report: automatic, from the null sender, or shaped like a
	// delivery report; looked at as a bounce of our mail, in head (the
	// mail, or the first bytes of a spooled one).
	report bool
	head   []byte
	// archived: old backlog mail of a first sync, stored as history
	// (cases.Archive, decided once, when parsed).
	archived bool
}

// newText is what the author wrote, quoted history removed.
func (p *parsed) newText() string {
	if !p.textDone {
		p.text, p.textDone = newText(p.msg), true
	}
	return p.text
}

// parse parses one mail. Archived mail (SPEC §11.1) is history: its new
// text and its bounce shape are never looked at.
func (d *Desk) parse(m mailin.Mail, archived bool) parsed {
	p := parsed{archived: archived}
	raw := bytesOf(m)
	if p.msg, p.err = raw.parse(mailin.ParseOptions{MaxAttachment: d.cfg.Mailbox.MaxAttachment}); p.err != nil {
		return p
	}
	p.body = bodyText(p.msg)
	if archived {
		return p
	}
	// Only a reply has history to strip for its new text, and a mail
	// threads only by its subject token or reply headers (SPEC §3).
	if _, token := d.th.FindToken(p.msg.Subject); token || len(p.msg.References)+len(p.msg.InReplyTo) > 0 {
		p.text, p.textDone = newText(p.msg), true
	}
	head, err := raw.head()
	if err != nil {
		p.err = err
		return p
	}
	if p.report = p.msg.Auto != "" || p.msg.NullSender || dsn.LooksLikeBounce(head); p.report {
		p.head = head // read again by the bounce reader: keep it, not the spool's I/O
	}
	return p
}

// parseAll parses mails on every core; parsing touches no shared state.
func (d *Desk) parseAll(mails []mailin.Mail) []parsed {
	ps := make([]parsed, len(mails))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(len(mails), runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(mails); i = int(next.Add(1) - 1) {
				m := mails[i]
				ps[i] = d.parse(m, cases.Archive(d.cfg, m.FirstSync, m.InternalDate))
			}
		})
	}
	wg.Wait()
	return ps
}

// deliver handles parsed mails in one transaction.
func (d *Desk) deliver(ctx context.Context, mails []mailin.Mail, ps []parsed) ([]mailin.Outcome, error) {
	outs := make([]mailin.Outcome, 0, len(mails))
	err := d.tx(ctx, func(t *store.Txn, ch *change) error {
		outs = outs[:0]
		for i, m := range mails {
			out, err := d.deliverOne(t, ch, m.Place, bytesOf(m), ps[i])
			if err != nil {
				return err
			}
			outs = append(outs, out)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, m := range mails {
		if p := ps[i]; p.err != nil {
			d.log.Warn("unreadable mail quarantined", "uid", m.UID, "err", p.err)
		} else if len(p.msg.Problems) > 0 {
			d.log.Warn("damaged mail stored with what could be read", "uid", m.UID, "msgid", p.msg.MessageID, "problems", strings.Join(p.msg.Problems, "; "))
		}
	}
	return outs, nil
}

// deliverOne stores one parsed mail and everything it causes, and
// records its place as processed.
func (d *Desk) deliverOne(t *store.Txn, ch *change, place Place, raw mailBytes, p parsed) (mailin.Outcome, error) {
	msg, perr := p.msg, p.err
	if errors.Is(perr, mailin.ErrSource) {
		return "", perr // a spool file that failed says nothing about the mail: not quarantined, tried again
	}
	if perr != nil {
		hash, err := raw.hash()
		if err != nil {
			return "", err
		}
		sm := &store.StoredMessage{Mailbox: place.Mailbox, UIDValidity: place.UIDValidity, UID: place.UID,
			Hash: hash, Matched: "quarantine", Problems: perr.Error(), ReceivedAt: d.now()}
		raw.keep(sm)
		// Mail with text but no header stays readable in quarantine.
		var nh *mailin.NoHeaderError
		if errors.As(perr, &nh) {
			sm.Subject = cases.Excerpt(nh.Text)
		}
		seen, err := t.SeenMessage(place.Mailbox, place.UIDValidity, place.UID, "", sm.Hash)
		if err != nil {
			return "", err
		}
		if !seen {
			if err := t.InsertMessage(sm); err != nil {
				return "", err
			}
		}
		return mailin.Quarantined, d.advance(t, place)
	}
	seen, err := t.SeenMessage(place.Mailbox, place.UIDValidity, place.UID, msg.MessageID, msg.Hash)
	if err != nil {
		return "", err
	}
	if seen {
		return mailin.Duplicate, d.advance(t, place)
	}
	out, err := d.ingest(t, ch, place, raw, p)
	if err != nil {
		return "", err
	}
	return out, d.advance(t, place)
}

// advance records place as the last processed UID of its mailbox.
func (d *Desk) advance(t *store.Txn, place Place) error {
	if place.Mailbox == "" {
		return nil
	}
	v, last, err := t.MailboxState(place.Mailbox)
	if err != nil {
		return err
	}
	if v == place.UIDValidity && last >= place.UID {
		return nil
	}
	return t.SetMailboxState(place.Mailbox, place.UIDValidity, place.UID)
}

func (d *Desk) ingest(t *store.Txn, ch *change, place Place, raw mailBytes, p parsed) (mailin.Outcome, error) {
	m := p.msg
	sm := &store.StoredMessage{Mailbox: place.Mailbox, UIDValidity: place.UIDValidity, UID: place.UID,
		MessageID: m.MessageID, Hash: m.Hash, From: m.From.Addr, Subject: m.Subject, Auto: m.Auto,
		Problems: strings.Join(m.Problems, "; "), ReceivedAt: d.now()}
	raw.keep(sm)
	archived := p.archived

	// Our own mail coming back (a copy, a loop through a forwarder) is
	// kept but never acted on (SPEC §2).
	own := strings.EqualFold(m.From.Addr, d.cfg.SMTP.From.Address)
	if !own && m.MessageID != "" {
		var err error
		if own, err = t.IsOwnMessageID(m.MessageID); err != nil {
			return "", err
		}
	}
	if own {
		sm.Auto = "own mail"
		return mailin.Kept, t.InsertMessage(sm)
	}
	if p.report && !archived {
		// A delivery report about our own mail lands on its case.
		if handled, err := d.bounce(t, ch, sm, p.head); handled || err != nil {
			return mailin.Kept, err
		}
	}

	n, match, err := d.findCase(t, m)
	if err != nil {
		return "", err
	}
	if match == cases.MatchNew {
		return d.newCaseFromMail(t, ch, sm, p, place, archived)
	}
	c, err := t.Case(n)
	if err != nil {
		return "", err
	}
	sm.Case, sm.Matched = c.Number, string(match)
	kind := cases.SenderOf(d.cfg, c, m.From.Addr)
	sm.ThirdParty = kind == cases.FromThirdParty
	if err := t.InsertMessage(sm); err != nil {
		return "", err
	}
	atts, err := d.saveAttachments(t, sm.ID, m)
	if err != nil {
		return "", err
	}
	var ev cases.Trigger
	switch {
	case archived:
		ev = cases.ArchivedMail{From: m.From.Addr, At: place.InternalDate, Text: p.body}
	case m.Auto != "":
		// Automatic mail is a silent event and never changes the case (SPEC §2).
		ev = cases.AutoMail{From: m.From.Addr, Reason: m.Auto, Subject: m.Subject, Match: match}
	case kind == cases.FromStaff:
		staff, _ := d.cfg.StaffByEmail(m.From.Addr)
		ev = cases.StaffMail{Staff: staff, MessageID: m.MessageID, References: m.References, Text: p.newText(),
			Direct: d.direct(c, m), Attachment: atts,
			Unauthenticated: d.cfg.Security.RequireAuthentication && !cases.Authenticated(m.From.Addr, m.AuthResults)}
	case kind == cases.FromThirdParty:
		ev = cases.ThirdPartyMail{From: m.From.Addr, Match: match, Text: p.body}
	default:
		ev = cases.CustomerMail{From: m.From.Addr, Name: m.From.Name, MessageID: m.MessageID, References: m.References,
			Subject: d.th.StripToken(m.Subject), Text: p.newText(), Body: p.body, Match: match}
	}
	if err := d.decide(t, ch, c, ev, &step{}); err != nil {
		return "", err
	}
	if archived {
		return mailin.Archived, nil
	}
	return mailin.Threaded, nil
}

// decide runs the decision step for an event on a stored case and
// carries it out.
func (d *Desk) decide(t *store.Txn, ch *change, c *cases.Case, ev cases.Trigger, st *step) error {
	f, err := d.facts(t, c)
	if err != nil {
		return err
	}
	return d.carry(t, ch, cases.Decide(d.cfg, c, ev, f, d.now()), st)
}

// facts reads what a decision on c needs besides the case.
func (d *Desk) facts(t *store.Txn, c *cases.Case) (cases.Facts, error) {
	reply, err := t.LastStaffReply(c.Number)
	return cases.Facts{LastStaffReply: reply}, err
}

// direct reports whether a staff mail went to the customer directly (the
// customer in To or Cc, support in copy): recorded, not relayed again.
func (d *Desk) direct(c *cases.Case, m *mailin.Message) bool {
	for _, a := range append(slices.Clone(m.To), m.Cc...) {
		if strings.EqualFold(a.Addr, c.ContactEmail) {
			return true
		}
	}
	return false
}

// newText is what the author of a reply wrote, quoted history removed.
func newText(m *mailin.Message) string {
	if strings.TrimSpace(m.Text) != "" {
		return replytext.Strip(m.Text)
	}
	if m.HTML != "" {
		return replytext.StripHTML(m.HTML)
	}
	return ""
}

// findCase threads a message (SPEC §3): the subject token first, then
// In-Reply-To/References, else a new case.
func (d *Desk) findCase(t *store.Txn, m *mailin.Message) (int64, cases.Match, error) {
	if n, ok := d.th.FindToken(m.Subject); ok {
		exists, err := t.CaseExists(n)
		if err != nil {
			return 0, "", err
		}
		if exists {
			return n, cases.MatchToken, nil
		}
	}
	ids := append(append([]string(nil), m.References...), m.InReplyTo...)
	n, ok, err := t.CaseByMessageID(ids)
	if err != nil {
		return 0, "", err
	}
	if ok {
		return n, cases.MatchHeader, nil
	}
	// Our Message-IDs encode the case number, for mail whose original we
	// no longer hold.
	for i := len(ids) - 1; i >= 0; i-- {
		if n, ok := cases.CaseFromMessageID(ids[i], d.domain); ok {
			if exists, err := t.CaseExists(n); err != nil {
				return 0, "", err
			} else if exists {
				return n, cases.MatchHeader, nil
			}
		}
	}
	return 0, cases.MatchNew, nil
}

func (d *Desk) saveAttachments(t *store.Txn, msgID int64, m *mailin.Message) ([]int64, error) {
	var ids []int64
	for i, a := range m.Attachments {
		sa := &store.Attachment{Message: msgID, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size,
			Truncated: a.Truncated, Part: i}
		if err := t.InsertAttachment(sa); err != nil {
			return nil, err
		}
		if !a.Truncated {
			ids = append(ids, sa.ID)
		}
	}
	return ids, nil
}

// newCaseFromMail opens a case for a mail that threads into none.
func (d *Desk) newCaseFromMail(t *store.Txn, ch *change, sm *store.StoredMessage, p parsed, place Place, archived bool) (mailin.Outcome, error) {
	m := p.msg
	cu, contact := d.cfg.CustomerFor(m.From.Addr)
	_, staff := d.cfg.StaffByEmail(m.From.Addr)
	if ok, why := cases.NewMail(d.cfg, m.Auto, cu, staff); !ok {
		// Kept for audit, without a case.
		sm.Auto = why
		return mailin.Kept, t.InsertMessage(sm)
	}
	in := cases.OpenInput{
		Subject:     cases.CleanSubject(m.Subject),
		Description: p.body,
		Email:       m.From.Addr,
		Contact:     m.From.Name,
		Severity:    d.cfg.Policy.DefaultSeverity,
		MessageID:   m.MessageID,
		References:  m.References,
		Actor:       m.From.Addr,
		Archived:    archived,
		At:          place.InternalDate,
	}
	if contact != nil {
		in.Contact = orStr(contact.Name, in.Contact)
		in.Phone = contact.Phone
	}
	c, err := d.open(t, ch, in, cu)
	if err != nil {
		return "", err
	}
	sm.Case, sm.Matched = c.Number, string(cases.MatchNew)
	if err := t.InsertMessage(sm); err != nil {
		return "", err
	}
	if _, err = d.saveAttachments(t, sm.ID, m); err != nil {
		return "", err
	}
	if archived {
		return mailin.Archived, nil
	}
	return mailin.Answered, nil
}

// OpenInput describes a new case.
type OpenInput = cases.OpenInput

// open decides and carries out the opening of a case (SPEC §1.2).
func (d *Desk) open(t *store.Txn, ch *change, in cases.OpenInput, cu *config.Customer) (*cases.Case, error) {
	f := cases.Facts{}
	var err error
	if !in.Archived {
		// An inspection goes to the region's first engineer, the one
		// reminded the day before; other cases to the least loaded.
		if in.Kind != cases.KindInspection {
			if f.Load, err = t.OpenCasesByEngineer(); err != nil {
				return nil, err
			}
		}
		if in.Email != "" && d.cfg.Policy.AutoReplyLimit > 0 {
			rcpt := strings.ToLower(in.Email)
			if f.AcksToSender, err = t.AutoRepliesSince(rcpt, d.now().Add(-d.cfg.Policy.AutoReplyWindow), d.cfg.Policy.AutoReplyLimit); err != nil {
				return nil, err
			}
			if f.AcksToSender >= d.cfg.Policy.AutoReplyLimit {
				if f.SuppressionTold, err = t.SuppressionToldSince(rcpt, d.now().Add(-cases.SuppressionNoticeEvery)); err != nil {
					return nil, err
				}
			}
		}
	}
	dec := cases.Open(d.cfg, in, cu, f, d.now())
	if err := d.carry(t, ch, dec, &step{}); err != nil {
		return nil, err
	}
	return dec.Case, nil
}

// OpenCase opens a case taken on the hotline (SPEC §1.2, `case open`) or
// a visit request (SPEC §11.8).
func (d *Desk) OpenCase(ctx context.Context, in OpenInput) (int64, error) {
	cu := d.cfg.CustomerByCompany(in.Company)
	if cu == nil && in.Email != "" {
		cu, _ = d.cfg.CustomerFor(in.Email)
	}
	if err := cases.CheckOpen(d.cfg, in, cu); err != nil {
		return 0, err
	}
	in.Via = "hotline"
	var n int64
	err := d.tx(ctx, func(t *store.Txn, ch *change) error {
		c, err := d.open(t, ch, in, cu)
		if err != nil {
			return err
		}
		n = c.Number
		return nil
	})
	return n, err
}

// MailboxState implements mailin.State.
func (d *Desk) MailboxState(ctx context.Context, mailbox string) (v, last uint32, err error) {
	err = d.db.Read(ctx, func(t *store.Txn) error {
		v, last, err = t.MailboxState(mailbox)
		return err
	})
	return
}

// Quarantined implements mailin.State.
func (d *Desk) Quarantined(ctx context.Context, p Place) (q bool, err error) {
	err = d.db.Read(ctx, func(t *store.Txn) error {
		q, err = t.Quarantined(p.Mailbox, p.UIDValidity, p.UID)
		return err
	})
	return
}

// ResetMailbox implements mailin.State.
func (d *Desk) ResetMailbox(ctx context.Context, mailbox string, uidvalidity uint32) error {
	return d.db.Tx(ctx, func(t *store.Txn) error { return t.SetMailboxState(mailbox, uidvalidity, 0) })
}

// FirstSync implements mailin.State.
func (d *Desk) FirstSync(ctx context.Context, mailbox string) (start time.Time, end uint32, err error) {
	err = d.db.Read(ctx, func(t *store.Txn) error {
		start, end, err = t.FirstSync(mailbox)
		return err
	})
	return
}

// BeginFirstSync implements mailin.State.
func (d *Desk) BeginFirstSync(ctx context.Context, mailbox string, uidvalidity uint32, start time.Time, end uint32) error {
	return d.db.Tx(ctx, func(t *store.Txn) error { return t.BeginFirstSync(mailbox, uidvalidity, start, end) })
}

// EndFirstSync implements mailin.State.
func (d *Desk) EndFirstSync(ctx context.Context, mailbox string) error {
	return d.db.Tx(ctx, func(t *store.Txn) error { return t.EndFirstSync(mailbox) })
}
