package desk

import (
	"context"
	"fmt"

	"helpdeskd/cases"
	"helpdeskd/config"
	"helpdeskd/store"
)

// console is who gives commands at the command line without --as: the
// service centre taking a phone call (SPEC §11.9).
var console = config.Staff{Name: "service centre", Roles: []string{"service_centre_manager"}}

// Command applies staff command lines to case n as the mail commands of
// SPEC §4 do (`helpdeskd case onsite|part|note`). actor is a staff address,
// or "" for the service centre at the console. Refused commands are
// recorded on the case and returned as a *CommandError.
func (d *Desk) Command(ctx context.Context, n int64, actor, lines string) error {
	who := console
	if actor != "" {
		s, ok := d.cfg.StaffByEmail(actor)
		if !ok {
			return fmt.Errorf("%s is not a staff member", actor)
		}
		who = s
	}
	st := &step{}
	err := d.tx(ctx, func(t *store.Txn, ch *change) error {
		st.refused = nil
		c, err := t.Case(n)
		if err != nil {
			return fmt.Errorf("case %d: %w", n, err)
		}
		return d.decide(t, ch, c, cases.Console{Staff: who, Text: lines}, st)
	})
	if err != nil {
		return err
	}
	if len(st.refused) > 0 {
		return &CommandError{Problems: st.refused}
	}
	return nil
}
