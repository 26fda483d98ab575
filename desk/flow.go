package desk

import (

	"fmt"

	"helpdeskd/cases"
	"helpdeskd/mailin"
	"helpdeskd/store"
)

// customerMail handles a message from the case's customer.
func (d *Desk) customerMail(t *store.Txn, ch *change, c *cases.Case, sm *store.StoredMessage, m *mailin.Message, match cases.Match) error {
	c.LastCustomerMsgID = orStr(m.MessageID, c.LastCustomerMsgID)
	c.ThreadIDs = appendThread(c.ThreadIDs, m.MessageID)
	if err := d.event(t, ch, c, cases.EvMessageIn, m.From.Addr, fmt.Sprintf("(%s) %s", match, excerpt(bodyText(m)))); err != nil {
		return err
	}
	return t.UpdateCase(c)
}

// staffMail handles a message from staff on a case.
func (d *Desk) staffMail(t *store.Txn, ch *change, c *cases.Case, m *mailin.Message, atts []int64) error {
	return d.event(t, ch, c, cases.EvMessageIn, m.From.Addr, excerpt(bodyText(m)))
}

