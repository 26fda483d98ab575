package desk

import (
	"errors"
	"strings"
	"testing"
	"time"

	"helpdeskd/cases"
	"helpdeskd/mailout"
	"helpdeskd/store"
)

func TestReplySchedule(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	acks := func() int { return count(f.outbox(1), "ack>alice@acme.test") }
	status := func() int { return count(f.outbox(1), "status>alice@acme.test") }
	if acks() != 1 {
		t.Fatal("no acknowledgement")
	}
	f.advance(thu9.Add(29 * time.Minute))
	if status() != 0 {
		t.Fatalf("status reply before 30 minutes: %v", f.outbox(1))
	}
	f.advance(thu9.Add(30 * time.Minute))
	if status() != 1 {
		t.Fatalf("no second reply at 30 minutes: %v", f.outbox(1))
	}
	if m := lastMail(f.mails(1), "status"); !strings.Contains(m.Text, "故障情况和处理状态") || m.Headers["Auto-Submitted"] != "auto-generated" {
		t.Errorf("second reply = %+v", m)
	}
	f.advance(thu9.Add(90 * time.Minute)) // the 1h interval of ACME's replies
	if status() != 2 {
		t.Fatalf("no Nth reply at 1h30: %v", f.outbox(1))
	}
	// A public staff reply inside the window counts as that window's reply,
	// and the next window starts from it.
	f.clk.Set(thu9.Add(120 * time.Minute))
	f.mail("eng1@example.com", "Re: [Case#1] Printer down", "Please restart the spooler.")
	f.advance(thu9.Add(150 * time.Minute)) // the old window's end: nothing
	if status() != 2 {
		t.Fatalf("automatic reply sent although staff replied in the window: %v", f.outbox(1))
	}
	// One interval after the staff reply is 12:00, the lunch break of the
	// 5×8 calendar: the reply waits for the afternoon's first minute.
	f.advance(thu9.Add(180 * time.Minute))
	if status() != 2 {
		t.Fatalf("status reply in the lunch break: %v", f.outbox(1))
	}
	f.advance(thu9.Add(270 * time.Minute))
	if status() != 3 {
		t.Fatalf("no reply one interval after the staff reply: %v", f.outbox(1))
	}
	if m := lastMail(f.mails(1), "status"); !strings.Contains(m.Text, "Please restart the spooler.") {
		t.Errorf("status reply lacks the latest staff reply:\n%s", m.Text)
	}
}

func TestSeverity4GetsFirstAndLastOnly(t *testing.T) {
	f := newFixture(t, false)
	f.cfg.Policy.DefaultSeverity = 4
	f.mail("alice@acme.test", "Question", "How do I?")
	f.advance(thu9.Add(5 * time.Hour))
	if n := count(f.outbox(1), "status>alice@acme.test"); n != 0 {
		t.Errorf("severity 4 got %d status replies", n)
	}
}

func TestRespondEscalationClimbsTheChain(t *testing.T) {
	f := newFixture(t, false)
	f.cfg.Escalation.StuckAfter = 1000 * time.Hour
	f.mail("carol@globex.test", "Outage", "down") // 7x24: respond_by = +4h, priority high
	f.advance(thu9.Add(4*time.Hour - 15*time.Minute))
	if n := count(f.outbox(1), "warning>eng2@example.com"); n != 1 {
		t.Errorf("warnings before the slip = %d", n)
	}
	f.advance(thu9.Add(4 * time.Hour))
	c, evs := f.caseN(1)
	if c.Priority != "urgent" || count(f.outbox(1), "escalation>csm@example.com") != 1 {
		t.Fatalf("first slip: priority %s, outbox %v", c.Priority, f.outbox(1))
	}
	last := lastOf(evs, cases.EvEscalated)
	if !strings.Contains(last.Detail, "no staff response") || !strings.Contains(last.Detail, "2026-11-26T05:00:00Z") {
		t.Errorf("escalated event = %q", last.Detail)
	}
	f.advance(thu9.Add(8 * time.Hour))
	c, _ = f.caseN(1)
	if c.Priority != "critical" || count(f.outbox(1), "escalation>scm@example.com") != 1 {
		t.Fatalf("second slip: priority %s, outbox %v", c.Priority, f.outbox(1))
	}
	f.advance(thu9.Add(12 * time.Hour))
	c, _ = f.caseN(1)
	if c.Priority != "critical" {
		t.Errorf("priority above critical: %s", c.Priority)
	}
}

func TestStaffResponseStopsEscalation(t *testing.T) {
	f := newFixture(t, false)
	f.cfg.Escalation.StuckAfter = 1000 * time.Hour
	f.mail("carol@globex.test", "Outage", "down")
	f.clk.Set(thu9.Add(time.Hour))
	f.mail("eng2@example.com", "Re: [Case#1] Outage", "Looking into it.")
	f.advance(thu9.Add(5 * time.Hour))
	for _, k := range f.outbox(1) {
		if strings.HasPrefix(k, "escalation>csm") {
			t.Fatalf("escalated after a staff response: %v", f.outbox(1))
		}
	}
}

func TestStuckSolveAndOnsiteEscalations(t *testing.T) {
	f := newFixture(t, false)
	f.mail("carol@globex.test", "Outage", "down") // severity 3 on 7x24: solve online in 24h
	f.clk.Set(thu9.Add(10 * time.Minute))
	f.mail("eng2@example.com", "Re: [Case#1] Outage", "Looking into it.")
	f.advance(thu9.Add(30 * time.Minute))
	if count(f.outbox(1), "escalation>csm@example.com") != 1 || count(f.outbox(1), "escalation>impl@example.com") != 1 {
		t.Fatalf("stuck: %v", f.outbox(1))
	}
	f.advance(thu9.Add(24 * time.Hour))
	c, evs := f.caseN(1)
	if !c.OnsiteNeeded || count(f.outbox(1), "escalation>scm@example.com") != 1 {
		t.Fatalf("solve slip: onsite %v, %v", c.OnsiteNeeded, f.outbox(1))
	}
	if e := lastOf(evs, cases.EvEscalated); !strings.Contains(e.Detail, "on-site required") {
		t.Errorf("event = %q", e.Detail)
	}
}

func TestDailyReport(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.") // office calendar: day ends 18:00
	f.advance(time.Date(2026, 11, 26, 17, 59, 0, 0, thu9.Location()))
	if count(f.outbox(1), "daily>csm@example.com") != 0 {
		t.Fatal("daily report too early")
	}
	f.advance(time.Date(2026, 11, 26, 18, 0, 0, 0, thu9.Location()))
	if count(f.outbox(1), "daily>csm@example.com") != 1 {
		t.Fatalf("no daily report at 18:00: %v", f.outbox(1))
	}
}

// TestTimersSurviveRestart: a desk that stopped with overdue timers fires
// each of them exactly once when a new desk starts on the same database.
func TestTimersSurviveRestart(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	var before int
	f.db.Read(f.ctx, func(tx *store.Txn) error { var err error; before, err = tx.CountTimers(); return err })
	if before == 0 {
		t.Fatal("no timers stored")
	}
	// "Restart": a new desk on the same database, an hour later.
	d2 := New(f.cfg, f.db, f.d.tmpl, Options{Now: f.clk.Now, Logger: f.d.log})
	f.d = d2
	f.advance(thu9.Add(31 * time.Minute))
	f.advance(thu9.Add(31 * time.Minute)) // again: nothing more may fire
	if n := count(f.outbox(1), "status>alice@acme.test"); n != 1 {
		t.Fatalf("second reply fired %d times", n)
	}
}

func lastOf(evs []cases.Event, kind string) cases.Event {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == kind {
			return evs[i]
		}
	}
	return cases.Event{}
}

func lastMail(ms []cases.Outgoing, kind string) cases.Outgoing {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Kind == kind {
			return ms[i]
		}
	}
	return cases.Outgoing{}
}

// A timer read as due but moved by a case change before its transaction
// began must not fire (the due list is read outside the transaction).
func TestStaleTimerDoesNotFire(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	f.clk.Set(thu9.Add(31 * time.Minute))
	stale := cases.Timer{Case: 1, Kind: cases.TimerReply, Due: thu9.Add(30 * time.Minute)}
	// Meanwhile a staff reply moved the reply window.
	f.mail("eng1@example.com", "Re: [Case#1] Printer down", "On it.")
	err := f.d.tx(f.ctx, func(tx *store.Txn, ch *change) error { return f.d.fire(tx, ch, stale) })
	if err != nil {
		t.Fatal(err)
	}
	if n := count(f.outbox(1), "status>alice@acme.test"); n != 0 {
		t.Fatalf("a stale reply timer sent %d status mails", n)
	}
}

// Timers of one case due in the same wake all fire: firing one must not
// drop another that is due but not yet fired.
func TestTimersDueTogetherAllFire(t *testing.T) {
	f := newFixture(t, false)
	f.cfg.Escalation.StuckAfter = 1000 * time.Hour
	f.mail("carol@globex.test", "Outage", "down") // reply due +30m, warning +3h45, respond +4h
	f.advance(thu9.Add(5 * time.Hour))            // one wake: all of them are overdue
	got := f.outbox(1)
	for _, want := range []string{"status>carol@globex.test", "warning>eng2@example.com", "escalation>csm@example.com"} {
		if count(got, want) != 1 {
			t.Errorf("%s sent %d times: %v", want, count(got, want), got)
		}
	}
}

// SPEC §11.4: the limit counts acknowledgements only. A customer over it
// still gets the promised status replies, the suppression is an event,
// and staff are told once per sender and hour.
func TestAutoReplyLimitProtectsAgainstLoopsNotCustomers(t *testing.T) {
	f := newFixture(t, false)
	f.cfg.Policy.AutoReplyLimit = 1
	f.mail("alice@acme.test", "Printer down", "It broke.") // the ack uses the one allowed reply
	f.mail("alice@acme.test", "Scanner down", "Also broke.")
	f.mail("alice@acme.test", "Fax down", "Broke too.")
	if n := count(f.outbox(2), "ack>alice@acme.test"); n != 0 {
		t.Fatalf("case 2 acknowledged over the limit: %v", f.outbox(2))
	}
	_, evs := f.caseN(2)
	if e := lastOf(evs, cases.EvAutoReplySuppressed); !strings.Contains(e.Detail, "alice@acme.test") {
		t.Fatalf("suppression not recorded: %v", evs)
	}
	if n := count(f.outbox(2), "staff_notice>csm@example.com"); n != 1 {
		t.Errorf("staff told %d times on the first suppression", n)
	}
	if n := count(f.outbox(3), "staff_notice>csm@example.com"); n != 0 {
		t.Errorf("staff told again within the hour: %d", n)
	}
	f.advance(thu9.Add(45 * time.Minute))
	for n := int64(1); n <= 3; n++ {
		if count(f.outbox(n), "status>alice@acme.test") == 0 {
			t.Errorf("case %d: scheduled status reply limited: %v", n, f.outbox(n))
		}
	}
}

func TestOnsiteSlipEscalates(t *testing.T) {
	f := newFixture(t, false)
	f.cfg.Escalation.StuckAfter = 1000 * time.Hour
	f.mail("carol@globex.test", "Outage", "down") // 7x24, severity 3: on site within 5 working days of dispatch
	f.clk.Set(thu9.Add(time.Hour))
	f.mail("eng2@example.com", "Re: [Case#1] Outage", "/onsite dispatch eng1@example.com\nWe are sending an engineer.")
	c, _ := f.caseN(1)
	// "always" calendar: 5 working days after Thu 2026-11-26 ends Tue 2026-12-01 24:00 UTC.
	if want := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC); !c.OnsiteBy.Equal(want) {
		t.Fatalf("onsite_by = %v, want %v", c.OnsiteBy, want)
	}
	if count(f.outbox(1), "staff_notice>eng1@example.com") != 1 {
		t.Errorf("dispatched engineer not told: %v", f.outbox(1))
	}
	f.advance(c.OnsiteBy)
	_, evs := f.caseN(1)
	var onsite []string
	for _, e := range evs {
		if e.Kind == cases.EvEscalated && strings.Contains(e.Detail, "not on site") {
			onsite = append(onsite, e.Detail)
		}
	}
	if len(onsite) != 1 || !strings.Contains(onsite[0], "2026-12-02T00:00:00Z") {
		t.Fatalf("onsite escalations = %v", onsite)
	}
	// Arrival in time stops it: a second case, arrived before the deadline.
	f.mail("carol@globex.test", "Second outage", "down")
	f.mail("eng2@example.com", "Re: [Case#2] x", "/onsite dispatch eng1@example.com")
	f.mail("eng1@example.com", "Re: [Case#2] x", "/onsite arrived")
	c2, _ := f.caseN(2)
	f.advance(c2.OnsiteBy.Add(time.Hour))
	_, evs = f.caseN(2)
	for _, e := range evs {
		if e.Kind == cases.EvEscalated && strings.Contains(e.Detail, "not on site") {
			t.Fatalf("escalated although the engineer arrived: %s", e.Detail)
		}
	}
}

// Issue 13.5: staff mail in Chinese carries no English fragment: the
// delivery-failure subject and escalation durations are in Chinese.
func TestStaffMailInTheReadersLanguage(t *testing.T) {
	f := newFixture(t, false)
	f.mail("alice@acme.test", "Printer down", "It broke.")
	f.advance(thu9.Add(31 * time.Minute)) // stuck after 30m
	var stuck, failed *cases.Outgoing
	for _, m := range f.mails(1) {
		if m.Kind == "escalation" && stuck == nil {
			stuck = &m
		}
	}
	if stuck == nil || !strings.Contains(stuck.Text, "30 分钟") || strings.Contains(stuck.Text, "30m0s") {
		t.Fatalf("stuck escalation text: %+v", stuck)
	}
	qs := f.mails(1)
	fail := &mailout.DeliveryError{Stage: mailout.StageRcpt, Code: 550, Enhanced: "5.1.1", Reply: "550 5.1.1 user unknown",
		Err: errors.New("550 5.1.1 user unknown")}
	r := mailout.Result{Attempt: 1, At: f.clk.Now(), Code: 550, Enhanced: "5.1.1", Err: fail}
	if err := f.d.Outbox().Failed(f.ctx, mailout.Item{Mail: qs[0]}, r); err != nil {
		t.Fatal(err)
	}
	for _, m := range f.mails(1) {
		if m.Kind == "staff_notice" && strings.Contains(m.Text, "550") {
			failed = &m
		}
	}
	if failed == nil || !strings.HasPrefix(failed.Subject, "投递失败 ") || strings.Contains(failed.Subject+failed.Text, "delivery failed") {
		t.Fatalf("delivery failure notice: %+v", failed)
	}
}

// SPEC §11.5: times in mail are in [display] timezone.
func TestMailTimesInDisplayZone(t *testing.T) {
	for _, tt := range []struct {
		zone, want string
	}{{"Asia/Shanghai", "2026-11-26 13:00 +08:00"}, {"UTC", "2026-11-26 05:00 +00:00"}} {
		f := newFixture(t, false)
		f.cfg.Display.Location = mustLoc(tt.zone)
		f.mail("carol@globex.test", "Outage", "down") // 7x24: respond within 4h of 09:00 +08:00
		var ack string
		for _, m := range f.mails(1) {
			if m.Kind == "ack" {
				ack = m.Text
			}
		}
		if !strings.Contains(ack, tt.want) {
			t.Errorf("%s: acknowledgement lacks %q:\n%s", tt.zone, tt.want, ack)
		}
	}
}
