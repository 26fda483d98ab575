package desk

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"helpdeskd/cases"
	"helpdeskd/config"
	"helpdeskd/mailin"
	"helpdeskd/store"
	"helpdeskd/templates"
)

// Place is where a message sits on the IMAP server.
type Place = mailin.Place

var _ mailin.Sink = (*Desk)(nil)
var _ mailin.State = (*Desk)(nil)

// Deliver stores one incoming mail and everything it causes, in one
// transaction, and records place as processed. When it returns nil the
// message may be flagged and moved; on error nothing was committed and the
// message must be delivered again later.
func (d *Desk) Deliver(ctx context.Context, place Place, raw []byte) (mailin.Outcome, error) {
	out, err := d.deliver(ctx, place, raw)
	switch out {
	case quarantined:
		return mailin.Quarantined, err
	case duplicate:
		return mailin.Duplicate, err
	}
	return mailin.Answered, err
}

type outcome int

const (
	stored      outcome = iota // committed (on a case, or kept without one)
	duplicate                  // seen before: nothing changed
	quarantined                // unreadable: kept raw, to be moved to quarantine
)

func (d *Desk) deliver(ctx context.Context, place Place, raw []byte) (outcome, error) {
	msg, perr := mailin.ParseMeta(raw, mailin.ParseOptions{MaxAttachment: d.cfg.Mailbox.MaxAttachment})
	out := stored
	err := d.tx(ctx, func(t *store.Txn, ch *change) error {
		out = stored
		if perr != nil {
			out = quarantined
			sm := &store.StoredMessage{Mailbox: place.Mailbox, UIDValidity: place.UIDValidity, UID: place.UID,
				Hash: sha256Hex(raw), Matched: "quarantine", Problems: perr.Error(), ReceivedAt: d.now(), Raw: raw}
			seen, err := t.SeenMessage(place.Mailbox, place.UIDValidity, place.UID, "", sm.Hash)
			if err != nil || seen {
				return err
			}
			if err := t.InsertMessage(sm); err != nil {
				return err
			}
			return d.advance(t, place)
		}
		seen, err := t.SeenMessage(place.Mailbox, place.UIDValidity, place.UID, msg.MessageID, msg.Hash)
		if err != nil {
			return err
		}
		if seen {
			out = duplicate
			return d.advance(t, place)
		}
		if err := d.ingest(t, ch, place, raw, msg); err != nil {
			return err
		}
		return d.advance(t, place)
	})
	if err != nil {
		return out, fmt.Errorf("deliver uid %d: %w", place.UID, err)
	}
	if perr != nil {
		d.log.Warn("unreadable mail quarantined", "uid", place.UID, "err", perr)
	} else if len(msg.Problems) > 0 {
		d.log.Warn("damaged mail stored with what could be read", "uid", place.UID, "msgid", msg.MessageID, "problems", strings.Join(msg.Problems, "; "))
	}
	return out, nil
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

// sender classes of a message on a case.
type senderKind int

const (
	fromCustomer senderKind = iota
	fromStaff
	fromThirdParty
)

func (d *Desk) ingest(t *store.Txn, ch *change, place Place, raw []byte, m *mailin.Message) error {
	sm := &store.StoredMessage{Mailbox: place.Mailbox, UIDValidity: place.UIDValidity, UID: place.UID,
		MessageID: m.MessageID, Hash: m.Hash, From: m.From.Addr, Subject: m.Subject, Auto: m.Auto,
		Problems: strings.Join(m.Problems, "; "), ReceivedAt: d.now(), Raw: raw}

	// Our own mail coming back (a copy, a loop through a forwarder) is
	// kept but never acted on (SPEC §2).
	own := strings.EqualFold(m.From.Addr, d.cfg.SMTP.From.Address)
	if !own && m.MessageID != "" {
		var err error
		if own, err = t.IsOwnMessageID(m.MessageID); err != nil {
			return err
		}
	}
	if own {
		sm.Auto = "own mail"
		return t.InsertMessage(sm)
	}

	n, match, err := d.findCase(t, m)
	if err != nil {
		return err
	}
	if match == cases.MatchNew {
		return d.newCaseFromMail(t, ch, sm, m)
	}
	c, err := t.Case(n)
	if err != nil {
		return err
	}
	sm.Case, sm.Matched = c.Number, string(match)
	kind := d.senderKind(c, m.From.Addr)
	sm.ThirdParty = kind == fromThirdParty
	if err := t.InsertMessage(sm); err != nil {
		return err
	}
	atts, err := d.saveAttachments(t, sm.ID, m)
	if err != nil {
		return err
	}
	// Automatic mail is a silent event and never changes the case (SPEC §2).
	if m.Auto != "" {
		return d.event(t, ch, c, cases.EvAutoMessage, m.From.Addr, fmt.Sprintf("%s (%s): %s", m.Auto, match, m.Subject))
	}
	switch kind {
	case fromStaff:
		return d.staffMail(t, ch, c, m, atts)
	case fromThirdParty:
		return d.event(t, ch, c, cases.EvMessageIn, m.From.Addr, fmt.Sprintf("third party (%s): %s", match, excerpt(bodyText(m))))
	}
	return d.customerMail(t, ch, c, sm, m, match)
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

func (d *Desk) senderKind(c *cases.Case, addr string) senderKind {
	if _, ok := d.cfg.StaffByEmail(addr); ok {
		return fromStaff
	}
	if strings.EqualFold(addr, c.ContactEmail) {
		return fromCustomer
	}
	if cu, _ := d.cfg.CustomerFor(addr); cu != nil && strings.EqualFold(cu.Company, c.Company) {
		return fromCustomer
	}
	return fromThirdParty
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
func (d *Desk) newCaseFromMail(t *store.Txn, ch *change, sm *store.StoredMessage, m *mailin.Message) error {
	if m.Auto != "" {
		// No case is opened for automatic mail; it is kept for audit.
		return t.InsertMessage(sm)
	}
	cu, contact := d.cfg.CustomerFor(m.From.Addr)
	if cu == nil && d.cfg.Policy.UnknownSenders == "ignore" {
		if _, staff := d.cfg.StaffByEmail(m.From.Addr); !staff {
			sm.Auto = "unknown sender ignored"
			return t.InsertMessage(sm)
		}
	}
	in := OpenInput{
		Subject:     cases.CleanSubject(m.Subject),
		Description: bodyText(m),
		Email:       m.From.Addr,
		Contact:     m.From.Name,
		Severity:    d.cfg.Policy.DefaultSeverity,
		MessageID:   m.MessageID,
		References:  m.References,
		Actor:       m.From.Addr,
	}
	if contact != nil {
		in.Contact = orStr(contact.Name, in.Contact)
		in.Phone = contact.Phone
	}
	c, err := d.open(t, ch, in, cu)
	if err != nil {
		return err
	}
	sm.Case, sm.Matched = c.Number, string(cases.MatchNew)
	if err := t.InsertMessage(sm); err != nil {
		return err
	}
	_, err = d.saveAttachments(t, sm.ID, m)
	return err
}

// OpenInput describes a new case.
type OpenInput struct {
	Company, Contact, Phone, Email string
	Subject, Description           string
	Severity                       int
	MessageID                      string   // customer's message, "" for the hotline
	References                     []string // of the customer's message
	Actor                          string
	Via                            string // "mail" (default) or "hotline"
	LinkedCase                     int64
}

// open creates the case, assigns it, and queues the acknowledgement and
// the notifications of SPEC §1.2.
func (d *Desk) open(t *store.Txn, ch *change, in OpenInput, cu *config.Customer) (*cases.Case, error) {
	now := d.now()
	plan := d.cfg.DefaultPlan()
	c := &cases.Case{
		Subject: orStr(in.Subject, "(no subject)"), Status: cases.StatusOpen, Severity: in.Severity,
		ContactName: in.Contact, ContactPhone: in.Phone, ContactEmail: strings.ToLower(in.Email),
		Language: d.cfg.Templates.Language, Description: in.Description, OpenedAt: now,
		Region: d.cfg.Policy.UnknownRegion, LastCustomerMsgID: in.MessageID, LinkedCase: in.LinkedCase,
	}
	if cu != nil {
		c.Company, c.Region, c.Language, c.Foreign, c.Plan = cu.Company, cu.Region, cu.Language, cu.Foreign, cu.Plan
		if c.Foreign {
			c.Language = "en"
		}
		plan = d.cfg.Plans[cu.Plan]
	} else {
		c.Company = in.Company
		if c.Company == "" {
			_, c.Company, _ = strings.Cut(c.ContactEmail, "@")
		}
	}
	c.Plan = plan.Name
	c.Priority = plan.Priority
	for _, r := range in.References {
		c.ThreadIDs = appendThread(c.ThreadIDs, r)
	}
	c.ThreadIDs = appendThread(c.ThreadIDs, in.MessageID)
	c.ClockStart = now
	c.RespondBy, c.SolveOnlineBy = cases.Deadlines(d.cfg, plan, c.Severity, now)
	load, err := t.OpenCasesByEngineer()
	if err != nil {
		return nil, err
	}
	c.Engineer = cases.Route(d.cfg, c.Region, load)
	if c.Engineer != "" {
		c.AssignedAt = now
	}
	if err := t.InsertCase(c); err != nil {
		return nil, err
	}
	via := orStr(in.Via, "mail")
	detail := fmt.Sprintf("via %s: %s (severity %d, priority %s, plan %s)", via, c.Subject, c.Severity, c.Priority, c.Plan)
	if c.LinkedCase != 0 {
		detail += fmt.Sprintf(", follows case %d", c.LinkedCase)
	}
	if err := d.event(t, ch, c, cases.EvOpened, in.Actor, detail); err != nil {
		return nil, err
	}
	if via == "mail" {
		if err := d.event(t, ch, c, cases.EvMessageIn, in.Actor, "new: "+excerpt(in.Description)); err != nil {
			return nil, err
		}
	}
	if c.Engineer != "" {
		if err := d.event(t, ch, c, cases.EvAssigned, "", c.Engineer); err != nil {
			return nil, err
		}
	}

	// The acknowledgement, rate-limited per sender (SPEC §2). It is also
	// the first reply of the schedule (SPEC §1.3: handling has started,
	// status follows in about 30 minutes).
	if ok, err := d.mayAutoReply(t, c.ContactEmail); err != nil {
		return nil, err
	} else if ok {
		if err := d.toCustomer(t, ch, c, "ack", templates.Data{}, autoReplied); err != nil {
			return nil, err
		}
		c.RepliesSent = 1
	} else if err := d.event(t, ch, c, cases.EvNote, "", "acknowledgement not sent: automatic reply limit for "+c.ContactEmail); err != nil {
		return nil, err
	}
	if err := d.toStaff(t, ch, c, "notify_new", templates.Data{},
		d.roleAddrs("specialist", "customer_service_manager", "quality"), c.Engineer); err != nil {
		return nil, err
	}
	if c.Engineer != "" {
		if err := d.toStaff(t, ch, c, "notify_assigned", templates.Data{}, []string{c.Engineer}); err != nil {
			return nil, err
		}
	}
	if err := d.schedule(t, ch, c); err != nil {
		return nil, err
	}
	return c, t.UpdateCase(c)
}

// mayAutoReply applies the per-sender limit on automatic replies.
func (d *Desk) mayAutoReply(t *store.Txn, rcpt string) (bool, error) {
	if rcpt == "" {
		return false, nil
	}
	n, err := t.AutoRepliesSince(rcpt, d.now().Add(-d.cfg.Policy.AutoReplyWindow))
	if err != nil {
		return false, err
	}
	return n < d.cfg.Policy.AutoReplyLimit, nil
}

// OpenCase opens a case taken on the hotline (SPEC §1.2, `case open`).
func (d *Desk) OpenCase(ctx context.Context, in OpenInput) (int64, error) {
	if _, ok := d.cfg.Severities[in.Severity]; !ok {
		return 0, fmt.Errorf("severity %d is not configured", in.Severity)
	}
	cu := d.cfg.CustomerByCompany(in.Company)
	if cu == nil && in.Email != "" {
		cu, _ = d.cfg.CustomerFor(in.Email)
	}
	if cu == nil && d.cfg.Policy.UnknownSenders == "ignore" {
		return 0, fmt.Errorf("%w %q (and [policy] unknown_senders = \"ignore\")", ErrUnknownCustomer, in.Company)
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

// excerpt is the first 200 characters of s with its white space
// collapsed, "…" marking a cut. It reads only as far as it needs: a body
// can be megabytes long.
func excerpt(s string) string {
	var b strings.Builder
	n, space := 0, false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = n > 0
			continue
		}
		for _, w := range [2]bool{space, false} {
			if n == 200 {
				return b.String() + "…"
			}
			if w {
				b.WriteByte(' ')
				n++
				space = false
			}
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
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
