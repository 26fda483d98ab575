package cases

import (
	"strings"
	"testing"
	"time"

	"helpdeskd/calendar"
	"helpdeskd/config"
)

// Probes from a review of the decision step against SPEC §1, §4 and §11:
// each one failed before its fix.

// decideAll runs one event after the other on c, each at now, and returns
// the case after them and the actions of the last one.
func decideAll(t *testing.T, c *Case, now time.Time, evs ...Trigger) (*Case, []string) {
	t.Helper()
	cfg := rulesCfg(t)
	var got []string
	for _, ev := range evs {
		d := Decide(cfg, c, ev, Facts{LastStaffReply: "latest staff reply"}, now)
		c, got = d.Case, acts(d.Actions)
	}
	return c, got
}

// SPEC §1 scope note, issue 12.4: after /scope consulting the SLA clocks
// stop. A timer set before the hand-over that still fires must do
// nothing: no status reply, no escalation, no warning.
func TestReviewConsultingTimersDoNothing(t *testing.T) {
	for _, kind := range TimerKinds {
		t.Run(kind, func(t *testing.T) {
			cfg := rulesCfg(t)
			c := opened(t, cfg, "alice@acme.test", 2, thu)
			c, _ = decideAll(t, c, thu.Add(5*time.Minute), staffMail(eng1, "/scope consulting"))
			c.OnsiteEngineer, c.OnsiteBy, c.ConfirmAskedAt = "eng1@example.com", thu.Add(time.Hour), time.Time{}
			_, got := decideAll(t, c, thu.Add(20*time.Hour), TimerFired{kind})
			if err := has(got, "!cust:", "!staff:", "!rec:escalated"); err != nil {
				t.Error(err)
			}
		})
	}
}

// SPEC §11.8: an installation or training visit is not a fault to solve
// online: a stuck, solve or daily timer left from before /kind does
// nothing.
func TestReviewVisitHasNoFaultTimers(t *testing.T) {
	for _, kind := range []string{TimerStuck, TimerSolve, TimerSolveWarn, TimerDaily} {
		t.Run(kind, func(t *testing.T) {
			cfg := rulesCfg(t)
			c := opened(t, cfg, "peter@initech.test", 2, thu)
			c, _ = decideAll(t, c, thu.Add(5*time.Minute), staffMail(eng1, "/kind installation 2026-12-03"))
			_, got := decideAll(t, c, thu.Add(20*time.Hour), TimerFired{kind})
			if err := has(got, "!staff:", "!rec:escalated"); err != nil {
				t.Error(err)
			}
		})
	}
}

// SPEC §1.5, issue 8: the text written with /resolve is the resolution
// note of that confirmation request. After the customer reopened the
// case, a second /resolve without text quotes the latest staff reply,
// not the note of the first resolution.
func TestReviewResolutionNoteOfEarlierResolve(t *testing.T) {
	cfg := rulesCfg(t)
	c := opened(t, cfg, "alice@acme.test", 2, thu)
	c, _ = decideAll(t, c, thu.Add(time.Hour),
		staffMail(eng1, "/resolve\nReplaced the fuser."),
		CustomerMail{From: "alice@acme.test", Text: "Still jams."})
	if c.Status != StatusOpen {
		t.Fatalf("status %s after the customer's answer", c.Status)
	}
	d := Decide(cfg, c, staffMail(eng1, "/resolve"), Facts{LastStaffReply: "Replaced the roller too."}, thu.Add(2*time.Hour))
	for _, a := range d.Actions {
		if m, ok := a.(ToCustomer); ok && m.Template == "confirm_request" {
			if m.Msg.Reply != "Replaced the roller too." {
				t.Errorf("second confirmation request quotes %q", m.Msg.Reply)
			}
			return
		}
	}
	t.Errorf("no confirmation request: %v", acts(d.Actions))
}

// SPEC §11.8: a visit dispatched for its planned day must be on site that
// day; a severity change does not turn the deadline into the severity's
// on-site allowance.
func TestReviewVisitSeverityKeepsPlannedDay(t *testing.T) {
	cfg := rulesCfg(t)
	c := opened(t, cfg, "peter@initech.test", 3, thu)
	c, _ = decideAll(t, c, thu.Add(time.Hour),
		staffMail(eng1, "/kind installation 2026-12-03"),
		staffMail(eng1, "/onsite dispatch eng1@example.com"))
	day := c.OnsiteBy
	if want := at(12, 3, 18, 0); !day.Equal(want) {
		t.Fatalf("onsite_by after dispatch %v, want %v", day.In(sh), want)
	}
	c, _ = decideAll(t, c, thu.Add(2*time.Hour), staffMail(eng1, "/severity 1"))
	if !c.OnsiteBy.Equal(day) {
		t.Errorf("onsite_by after /severity 1 = %v, want the planned day's end %v", c.OnsiteBy.In(sh), day.In(sh))
	}
}

// SPEC §1.3: a public reply written by staff at a status change is that
// change's reply: /close or /reopen with text sends the customer one
// mail, not an automatic status reply and the relay in the same second.
func TestReviewStatusChangeWithTextIsOneMail(t *testing.T) {
	for _, tt := range []struct {
		name, text string
		setup      func(*Case)
	}{
		{name: "close", text: "/close\nClosing as agreed on the phone."},
		{name: "reopen", text: "/reopen\nReopening: the fault came back.", setup: func(c *Case) { c.Status, c.ClosedAt = StatusClosed, thu }},
		{name: "scope", text: "/scope consulting\n您好，此需求属于安全咨询范围，咨询工程师会与您联系。"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := rulesCfg(t)
			c := opened(t, cfg, "alice@acme.test", 2, thu)
			if tt.setup != nil {
				tt.setup(c)
			}
			_, got := decideAll(t, c, thu.Add(time.Hour), staffMail(eng1, tt.text))
			n := 0
			for _, g := range got {
				if len(g) > 5 && g[:5] == "cust:" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d mails to the customer: %v", n, got)
			}
		})
	}
}

// SPEC §1.4: each further slip climbs one more step. A case escalated for
// its respond slip does not climb again at once because a manager raised
// its severity: the next step is one respond interval later.
func TestReviewSeverityAfterEscalationDoesNotClimbAtOnce(t *testing.T) {
	cfg := rulesCfg(t)
	c := opened(t, cfg, "alice@acme.test", 3, thu) // respond_by Thu 18:00
	c, got := decideAll(t, c, at(11, 26, 18, 0), TimerFired{TimerRespond})
	if err := has(got, "rec:escalated"); err != nil {
		t.Fatal(err)
	}
	fri := at(11, 27, 10, 0)
	c, _ = decideAll(t, c, fri, StaffMail{Staff: scm, Text: "/severity 2"})
	due, ok := Timers(cfg, c, fri)[TimerRespond]
	if !ok || !due.After(fri) {
		t.Errorf("respond check after /severity 2 at %v: %v (set %v), want later than now", fri, due.In(sh), ok)
	}
}

// SPEC §1.4 "Before the slip": the assignee is warned before each
// deadline, the on-site arrival deadline too: the dispatched engineer
// gets a warning [replies] warning before onsite_by.
func TestReviewOnsiteWarning(t *testing.T) {
	cfg := rulesCfg(t)
	c := opened(t, cfg, "alice@acme.test", 1, thu)
	c, _ = decideAll(t, c, thu.Add(time.Hour), staffMail(eng1, "/onsite dispatch eng2@example.com"))
	var warn time.Time
	for kind, due := range Timers(cfg, c, thu.Add(time.Hour)) {
		if due.Equal(c.OnsiteBy.Add(-cfg.Replies.Warning)) && kind != TimerOnsite {
			warn = due
			d := Decide(cfg, c, TimerFired{kind}, Facts{}, due)
			if err := has(acts(d.Actions), "staff:warning>eng2@example.com"); err != nil {
				t.Error(err)
			}
		}
	}
	if warn.IsZero() {
		t.Errorf("no warning before onsite_by %v: %v", c.OnsiteBy.In(sh), Timers(cfg, c, thu.Add(time.Hour)))
	}
}

// SPEC §4: command lines are removed from what is relayed. A command mail
// whose only other text is the writer's signature (after the "-- "
// separator of RFC 3676 §4.3, as mail clients add it) relays nothing: the
// customer gets no mail holding a bare signature, and it is no staff
// response that would stop the respond escalation.
func TestReviewCommandMailWithSignatureOnly(t *testing.T) {
	cfg := rulesCfg(t)
	c := opened(t, cfg, "alice@acme.test", 2, thu)
	d := Decide(cfg, c, staffMail(eng1, "/severity 1\n\n-- \nEng One\nACME Support"), Facts{}, thu.Add(time.Hour))
	if err := has(acts(d.Actions), "rec:severity_changed", "!cust:relay", "!rec:reply_out"); err != nil {
		t.Error(err)
	}
	if !d.Case.RespondedAt.IsZero() {
		t.Error("a signature counted as the staff response")
	}
	d = Decide(cfg, c, staffMail(eng1, "/resolve\n\n-- \nEng One"), Facts{LastStaffReply: "Replaced the fuser."}, thu.Add(time.Hour))
	for _, a := range d.Actions {
		if m, ok := a.(ToCustomer); ok && m.Template == "confirm_request" && m.Msg.Reply != "Replaced the fuser." {
			t.Errorf("confirmation request quotes %q", m.Msg.Reply)
		}
	}
}

// SPEC §11.8, §1 scope note: a visit has no solve-online deadline and a
// consulting case no SLA deadline; a severity change or a reopen does
// not bring them back (case show would print them, report count them).
func TestReviewKindDeadlinesStayAway(t *testing.T) {
	cfg := rulesCfg(t)
	v := opened(t, cfg, "peter@initech.test", 2, thu)
	v, _ = decideAll(t, v, thu.Add(time.Hour), staffMail(eng1, "/kind installation 2026-12-03"), staffMail(eng1, "/severity 1"))
	if !v.SolveOnlineBy.IsZero() {
		t.Errorf("installation after /severity 1: solve_online_by %v", v.SolveOnlineBy.In(sh))
	}
	v, _ = decideAll(t, v, thu.Add(2*time.Hour), staffMail(eng1, "/close"), staffMail(eng1, "/reopen"))
	if !v.SolveOnlineBy.IsZero() {
		t.Errorf("installation after a reopen: solve_online_by %v", v.SolveOnlineBy.In(sh))
	}
	k := opened(t, cfg, "alice@acme.test", 2, thu)
	k, _ = decideAll(t, k, thu.Add(time.Hour), staffMail(eng1, "/scope consulting"))
	if !k.RespondBy.IsZero() || !k.SolveOnlineBy.IsZero() {
		t.Errorf("after /scope consulting: respond_by %v solve_online_by %v", k.RespondBy, k.SolveOnlineBy)
	}
	k, _ = decideAll(t, k, thu.Add(time.Hour), staffMail(eng1, "/severity 1"),
		staffMail(eng1, "/close"), CustomerMail{From: "alice@acme.test", Text: "One more question."})
	if k.Status != StatusOpen || !k.RespondBy.IsZero() || !k.SolveOnlineBy.IsZero() {
		t.Errorf("consulting case: status %s respond_by %v solve_online_by %v", k.Status, k.RespondBy, k.SolveOnlineBy)
	}
}

// SPEC §1 scope note, issue 12.4: a consulting case is the consulting
// team's: what the customer writes on it goes to them.
func TestReviewConsultingCustomerMailToConsulting(t *testing.T) {
	cfg := rulesCfg(t)
	c := opened(t, cfg, "alice@acme.test", 2, thu)
	_, got := decideAll(t, c, thu.Add(time.Hour), staffMail(eng1, "/scope consulting"),
		CustomerMail{From: "alice@acme.test", Text: "Here are the attack logs."})
	if err := has(got, "staff:staff_notice>consult@example.com"); err != nil {
		t.Error(err)
	}
}

// SPEC §1.5: "确认" is a confirm word, but a customer who asks us to
// check (请确认…) or says they cannot confirm (无法确认…, 不能确认…) has not
// confirmed the fix, nor one who says it is still broken: the case
// reopens, it does not close.
func TestReviewNoConfirmation(t *testing.T) {
	confirmations(t, map[string]bool{
		"请确认一下为什么还是报错":           false,
		"请帮忙确认，问题依旧":             false,
		"无法确认是否已经恢复":             false,
		"我这边不能确认，明天再试":           false,
		"确认已恢复，谢谢":               true,
		"已解决，多谢":                 true,
		"I confirm it works now": true,
		// "Any other customer reply reopens the case": a reply that says
		// the fault is still there is no confirmation.
		"Yes, still broken.":       false,
		"Yes.\nIt still fails.":    false,
		"确认了一下，问题依旧":               false,
		"已解决了一部分，但还是报错":            false,
		"Yes, it works again":      true,
		"Confirmed, thank you all": true,
	})
}

// confirmations checks IsConfirmation with the default confirm words.
func confirmations(t *testing.T, want map[string]bool) {
	t.Helper()
	words := rulesCfg(t).Closing.ConfirmWords
	for text, w := range want {
		if got := IsConfirmation(text, words); got != w {
			t.Errorf("IsConfirmation(%q) = %v, want %v", text, got, w)
		}
	}
}

// SPEC §11.8, issue 12.4: a case opened as kind consulting (`case open
// --kind consulting`) is the consulting team's from the start: they are
// told of it, as with /scope consulting.
func TestReviewOpenConsultingTellsConsulting(t *testing.T) {
	cfg := rulesCfg(t)
	cu, _ := cfg.CustomerFor("alice@acme.test")
	d := Open(cfg, OpenInput{Email: "alice@acme.test", Subject: "We were attacked", Severity: 2, Kind: KindConsulting, Via: "hotline"}, cu, Facts{}, thu)
	if err := has(acts(d.Actions), "staff:notify_new>consult@example.com"); err != nil {
		t.Error(err)
	}
}

// SPEC §2: mail without a usable From still opens a case. There is no one
// to send status replies to: no reply timer is set, so none fires (and
// is dropped as "rescheduled into the past") again after every event.
func TestReviewNoReplyTimerWithoutContact(t *testing.T) {
	cfg := rulesCfg(t)
	d := Open(cfg, OpenInput{Subject: "(no sender)", Severity: 2}, nil, Facts{}, thu)
	c := d.Case
	if _, ok := Timers(cfg, c, thu)[TimerReply]; ok {
		t.Error("reply timer set for a case without a contact address")
	}
	d = Decide(cfg, c, TimerFired{TimerReply}, Facts{}, thu.Add(10*time.Minute))
	if d.Case.RepliesSent != c.RepliesSent && !d.Changed {
		t.Error("RepliesSent changed but the decision is not marked changed")
	}
}

// SPEC §11.6, seed rules (5*8 現場支持服務): a 5×8 on-site service counts
// its on-site deadline in working time on the 5x8 plan's calendar, also
// for a customer whose hotline and email support is on the 7×24 plan.
func TestReviewOnsite5x8OnA7x24Plan(t *testing.T) {
	cfg := rulesCfg(t, func(c *config.Config) { c.Customers[1].Services = []string{"hotline", "email", "onsite_5x8"} })
	c := opened(t, cfg, "carol@globex.test", 2, thu)
	fri := at(11, 27, 10, 0)
	c = Decide(cfg, c, StaffMail{Staff: eng1, Text: "/onsite dispatch eng2@example.com"}, Facts{}, fri).Case
	// 3 working days after Friday on the office calendar: Mon, Tue, Wed 18:00.
	if want := at(12, 2, 18, 0); !c.OnsiteBy.Equal(want) {
		t.Errorf("onsite_by %v, want %v", c.OnsiteBy.In(sh), want)
	}
}

// SPEC §11.8: /kind fault undoes a hand-over or a visit: the case is a
// fault again with its respond and solve-online deadlines, counted from
// when its clocks started, and their timers.
func TestReviewKindFaultRestoresDeadlines(t *testing.T) {
	for _, first := range []string{"/scope consulting", "/kind installation 2026-12-03"} {
		t.Run(first, func(t *testing.T) {
			cfg := rulesCfg(t)
			c := opened(t, cfg, "peter@initech.test", 2, thu)
			want := *c
			c, _ = decideAll(t, c, thu.Add(time.Hour), staffMail(eng1, first), staffMail(eng1, "/kind fault"))
			if !c.RespondBy.Equal(want.RespondBy) || !c.SolveOnlineBy.Equal(want.SolveOnlineBy) {
				t.Errorf("deadlines %v / %v, want %v / %v", c.RespondBy, c.SolveOnlineBy, want.RespondBy, want.SolveOnlineBy)
			}
			tm := Timers(cfg, c, thu.Add(time.Hour))
			if _, ok := tm[TimerSolve]; !ok {
				t.Errorf("no solve timer: %v", tm)
			}
		})
	}
}

// SPEC §1.4: a solve slip asks the managers to dispatch. When an engineer
// is already dispatched (before the slip), there is nothing to ask for:
// no dispatch request, no visit offer to the customer.
func TestReviewSolveSlipAfterDispatch(t *testing.T) {
	for _, tt := range []struct{ addr, cmd string }{
		{"alice@acme.test", "/onsite dispatch eng1@example.com"},
		{"carol@globex.test", "/onsite dispatch eng2@example.com --billable"},
	} {
		t.Run(tt.addr, func(t *testing.T) {
			cfg := rulesCfg(t)
			c := opened(t, cfg, tt.addr, 2, thu)
			c, _ = decideAll(t, c, thu.Add(time.Hour), staffMail(eng1, tt.cmd))
			if c.OnsiteEngineer == "" {
				t.Fatal("not dispatched")
			}
			c, got := decideAll(t, c, c.SolveOnlineBy, TimerFired{TimerSolve})
			if err := has(got, "!staff:escalation", "!cust:visit_offer"); err != nil {
				t.Error(err)
			}
			if _, ok := Timers(cfg, c, c.SolveOnlineBy)[TimerSolve]; ok {
				t.Error("solve timer set again")
			}
		})
	}
}

// inspectionCase is Initech's scheduled inspection of Thursday, opened at
// thu.
func inspectionCase(t *testing.T, cfg *config.Config) *Case {
	t.Helper()
	cu, _ := cfg.CustomerFor("peter@initech.test")
	return Open(cfg, OpenInput{Company: "Initech", Email: "peter@initech.test", Severity: 3, Kind: KindInspection, Via: "schedule",
		PlannedDate: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)}, cu, Facts{}, thu).Case
}

// SPEC §11.7: a late inspection report escalates once. Recording the
// engineer's dispatch afterwards does not set the report timer again in
// the past (a second escalation at once).
func TestReviewInspectionDispatchAfterReportSlip(t *testing.T) {
	cfg := rulesCfg(t)
	c := inspectionCase(t, cfg)
	late := c.ReportDueBy.Add(time.Hour)
	c, got := decideAll(t, c, late, TimerFired{TimerReport})
	if err := has(got, "rec:escalated"); err != nil {
		t.Fatal(err)
	}
	c, _ = decideAll(t, c, late.Add(time.Hour), staffMail(eng1, "/onsite dispatch eng1@example.com"))
	if due, ok := Timers(cfg, c, late.Add(time.Hour))[TimerReport]; ok && !due.After(late.Add(time.Hour)) {
		t.Errorf("report timer set again at %v, in the past", due.In(sh))
	}
}

// SPEC §1.5, §11.7: a reopened inspection has a new report deadline, and
// its slip escalates again, even when the first report was late.
func TestReviewReopenedInspectionHasReportTimer(t *testing.T) {
	cfg := rulesCfg(t)
	c := inspectionCase(t, cfg)
	late := c.ReportDueBy.Add(time.Hour)
	c, _ = decideAll(t, c, late, TimerFired{TimerReport},
		StaffMail{Staff: eng1, Text: "Report attached.", Attachment: []int64{1}}, staffMail(eng1, "/done"))
	if c.Status != StatusClosed {
		t.Fatalf("status %s", c.Status)
	}
	again := late.Add(2 * time.Hour)
	c, _ = decideAll(t, c, again, CustomerMail{From: "peter@initech.test", Text: "The report misses the firewall."})
	if due, ok := Timers(cfg, c, again)[TimerReport]; c.Status != StatusOpen || !ok || !due.After(again) {
		t.Errorf("reopened inspection: status %s, report timer %v (%v)", c.Status, due, ok)
	}
}

// SPEC §4, §3 (full-width forms): a command typed with a Chinese input
// method in full-width mode (／resolve, ／severity　２) is a command: it is
// applied and not relayed to the customer verbatim.
func TestReviewFullWidthCommand(t *testing.T) {
	cmds, rest := ParseBody("您好，\n／resolve\n已更换硒鼓。")
	if len(cmds) != 1 || cmds[0].Name != "resolve" || strings.Contains(rest, "resolve") {
		t.Errorf("／resolve: %+v, rest %q", cmds, rest)
	}
	cmds, _ = ParseBody("／severity　２")
	if len(cmds) != 1 || cmds[0].Name != "severity" || len(cmds[0].Args) != 1 || cmds[0].Args[0] != "2" {
		t.Errorf("／severity　２: %+v", cmds)
	}
}

// Issue 12.4: a consulting case the customer reopens is the consulting
// team's to pick up again.
func TestReviewConsultingReopenToConsulting(t *testing.T) {
	cfg := rulesCfg(t)
	c := opened(t, cfg, "alice@acme.test", 2, thu)
	_, got := decideAll(t, c, thu.Add(time.Hour), staffMail(eng1, "/scope consulting"), staffMail(eng1, "/close"),
		CustomerMail{From: "alice@acme.test", Text: "We need help again."})
	if err := has(got, "rec:reopened", "staff:reopened_notice>consult@example.com"); err != nil {
		t.Error(err)
	}
}

// Issue 11, SPEC §1.3: after a bounce, scheduled replies stop until the
// contact writes; then they resume one interval on, not with a status
// reply in the same second as the customer's own mail.
func TestReviewRepliesResumeAfterBounce(t *testing.T) {
	cfg := rulesCfg(t)
	c := opened(t, cfg, "alice@acme.test", 2, thu)
	c, _ = decideAll(t, c, thu.Add(time.Minute), DeliveryFailed{Kind: "ack", Rcpt: "alice@acme.test", Status: "5.2.2", Bounce: true})
	if _, ok := Timers(cfg, c, thu.Add(time.Minute))[TimerReply]; ok {
		t.Fatal("reply timer after the bounce")
	}
	now := thu.Add(3 * time.Hour)
	c, _ = decideAll(t, c, now, CustomerMail{From: "alice@acme.test", Text: "My mailbox was full, sorry."})
	if due, ok := Timers(cfg, c, now)[TimerReply]; !ok || !due.After(now) {
		t.Errorf("reply timer after the customer wrote: %v (%v), want after %v", due.In(sh), ok, now.In(sh))
	}
}

// SPEC §1.5 step 2: the manager's review ends in the confirmation request,
// one mail. What the manager wrote with /approve is a remark for the
// case, not relayed to the customer beside the request.
func TestReviewApproveWithTextIsOneMail(t *testing.T) {
	cfg := rulesCfg(t, func(c *config.Config) { c.Closing.Review = true })
	c := opened(t, cfg, "alice@acme.test", 2, thu)
	c = Decide(cfg, c, staffMail(eng1, "/resolve\nReplaced the fuser."), Facts{}, thu.Add(time.Hour)).Case
	d := Decide(cfg, c, StaffMail{Staff: scm, Text: "/approve\n做得好，下次请先备份。"}, Facts{}, thu.Add(70*time.Minute))
	if err := has(acts(d.Actions), "rec:approved", "cust:confirm_request", "!cust:relay", "rec:note"); err != nil {
		t.Error(err)
	}
}

// SPEC §11.7: an inspection goes to the region's first engineer, the one
// the schedule reminded the day before (InspectionStep.Engineer), however
// many open cases they have: cases decides it, whatever load the desk
// passes.
func TestReviewInspectionGoesToTheRemindedEngineer(t *testing.T) {
	cfg := rulesCfg(t, func(c *config.Config) {
		c.Staff = append(c.Staff, config.Staff{Name: "Eng Three", Email: "eng3@example.com", Roles: []string{"engineer"}, Regions: []string{"north"}})
	})
	cu, _ := cfg.CustomerFor("peter@initech.test")
	cu.Inspections = append(cu.Inspections, config.Inspection{Every: "once", Date: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
	steps, _ := Inspections(cfg, cu, InspectionCursor{Next: calendar.Date{Year: 2026, Month: 12, Day: 1}}, at(12, 1, 10, 0))
	if len(steps) == 0 {
		t.Fatal("no inspection step")
	}
	c := Open(cfg, OpenInput{Company: "Initech", Email: "peter@initech.test", Severity: 3, Kind: KindInspection, Via: "schedule",
		PlannedDate: steps[0].Day.Midnight()}, cu, Facts{Load: map[string]int{steps[0].Engineer: 9}}, at(12, 1, 10, 0)).Case
	if c.Engineer != steps[0].Engineer {
		t.Errorf("inspection assigned to %s, reminded was %s", c.Engineer, steps[0].Engineer)
	}
}
