package desk

import (
	"strings"

	"helpdeskd/cases"
	"helpdeskd/mailin/dsn"
	"helpdeskd/store"
)

// bounce handles a delivery report about one of our own mails (issue 11,
// RFC 3464): it finds which of our messages bounced (our Message-IDs
// encode the case) and lets the case decide what a failed or delayed
// delivery means. It reports false when the mail is no report about our
// mail; the caller then handles it as any automatic mail. A bounce is
// never answered.
func (d *Desk) bounce(t *store.Txn, ch *change, sm *store.StoredMessage, raw []byte) (bool, error) {
	r, ok := dsn.Read(raw)
	if !ok {
		return false, nil
	}
	var n int64
	var kind string
	for _, id := range r.MessageIDs {
		if c, ok := cases.CaseFromMessageID(id, d.domain); ok {
			exists, err := t.CaseExists(c)
			if err != nil {
				return false, err
			}
			if exists {
				n, kind = c, cases.MessageIDKind(id)
				break
			}
		}
	}
	if n == 0 {
		return false, nil
	}
	c, err := t.Case(n)
	if err != nil {
		return false, err
	}
	sm.Case, sm.Matched = n, "bounce"
	if sm.Auto == "" {
		sm.Auto = "delivery report"
	}
	if err := t.InsertMessage(sm); err != nil {
		return false, err
	}
	return true, d.decide(t, ch, c, bounceEvent(r, kind, c.ContactEmail), &step{})
}

// bounceEvent is the delivery failure a report describes: the recipient
// that is the case's contact if it is among them, else the first.
func bounceEvent(r *dsn.Report, kind, contact string) cases.DeliveryFailed {
	ev := cases.DeliveryFailed{Kind: kind, Bounce: true, Delayed: r.Delayed()}
	var pick *dsn.Recipient
	for i := range r.Recipients {
		rc := &r.Recipients[i]
		if pick == nil || strings.EqualFold(rc.Addr, contact) {
			pick = rc
		}
	}
	if pick != nil {
		ev.Rcpt, ev.Status, ev.Diagnostic = pick.Addr, pick.Status, pick.Diagnostic
	}
	return ev
}
