package cases

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"helpdeskd/calendar"
	"helpdeskd/config"
	"helpdeskd/internal/testconf"
)

// The rules of SPEC §1, §4 and §11 as tables: the case as it is, one
// event and now, and what must come out — the actions (as short strings)
// and the case as it must become.

const rulesConfig = testconf.Servers + testconf.Staff + `
[[customers]]
company = "ACME"
domains = ["acme.test"]
contacts = [{ name = "Alice", email = "alice@acme.test" }]
plan = "5x8"
region = "north"
[[customers]]
company = "Globex"
domains = ["globex.test"]
contacts = [{ name = "Carol", email = "carol@globex.test" }]
plan = "7x24"
region = "south"
update_interval = "2h"
[[customers]]
company = "Initech"
domains = ["initech.test"]
contacts = [{ name = "Peter", email = "peter@initech.test" }]
plan = "5x8"
region = "north"
`

var sh = mustLoc("Asia/Shanghai")

func mustLoc(n string) *time.Location {
	l, err := time.LoadLocation(n)
	if err != nil {
		panic(err)
	}
	return l
}

// at is a time in Shanghai on the given day of 2026 (month, day).
func at(month time.Month, day, hour, min int) time.Time {
	return time.Date(2026, month, day, hour, min, 0, 0, sh)
}

// thu is Thursday 2026-11-26 09:00 in Shanghai, a working morning.
var thu = at(11, 26, 9, 0)

func rulesCfg(t *testing.T, edit ...func(*config.Config)) *config.Config {
	t.Helper()
	cfg, err := config.Parse("rules.toml", []byte(rulesConfig))
	if err != nil {
		t.Fatal(err)
	}
	// ACME bought 5×8 on-site maintenance, Globex none, Initech
	// installation, training and inspections (SPEC §11.6).
	cfg.Customers[0].Services = []string{"hotline", "email", "onsite_5x8"}
	cfg.Customers[1].Services = []string{"hotline", "email"}
	cfg.Customers[2].Services = []string{"hotline", "email", "installation", "training", "inspection", "onsite_7x24"}
	for _, e := range edit {
		e(cfg)
	}
	return cfg
}

// acts writes actions as short strings: "rec:KIND" followed by
// "at:KIND@now" or "at:KIND@MM-DD HH:MM" (Shanghai) for when the event
// is stamped, "cust:TEMPLATE", "staff:TEMPLATE>ADDR" (one per address,
// after dedupe), "cmd>ADDR", "follow".
func acts(as []Action) []string {
	var out []string
	for _, a := range as {
		switch a := a.(type) {
		case Record:
			when := "now"
			if !a.At.IsZero() {
				when = a.At.In(sh).Format("01-02 15:04")
			}
			out = append(out, "rec:"+a.Kind, "at:"+a.Kind+"@"+when)
		case ToCustomer:
			out = append(out, "cust:"+a.Template)
		case ToStaff:
			seen := map[string]bool{}
			for _, s := range a.Skip {
				seen[s] = true
			}
			for _, to := range a.To {
				if to != "" && !seen[to] {
					seen[to] = true
					out = append(out, "staff:"+a.Template+">"+to)
				}
			}
		case CommandReply:
			out = append(out, "cmd>"+a.To)
		case OpenFollowUp:
			out = append(out, "follow")
		}
	}
	return out
}

// opened is the case Open makes for a mail from addr at now.
func opened(t *testing.T, cfg *config.Config, addr string, sev int, now time.Time) *Case {
	t.Helper()
	cu, _ := cfg.CustomerFor(addr)
	d := Open(cfg, OpenInput{Email: addr, Subject: "Printer down", Description: "It broke.", Severity: sev, Actor: addr, MessageID: "m1@acme.test"}, cu, Facts{}, now)
	d.Case.Number = 7
	return d.Case
}

func has(got []string, want ...string) error {
	for _, w := range want {
		if neg, ok := strings.CutPrefix(w, "!"); ok {
			for _, g := range got {
				if g == neg || strings.HasPrefix(g, neg) {
					return fmt.Errorf("unwanted %q in %v", neg, got)
				}
			}
			continue
		}
		if !slices.Contains(got, w) {
			return fmt.Errorf("missing %q in %v", w, got)
		}
	}
	return nil
}

func TestOpenRules(t *testing.T) {
	cfg := rulesCfg(t)
	tests := []struct {
		name             string
		addr             string
		sev              int
		in               func(*OpenInput)
		f                Facts
		want             []string
		respond, solve   time.Time
		priority, engine string
		check            func(*Case) error
	}{
		// §1.1 on the 5×8 office calendar (09:00-12:00, 13:30-18:00).
		{name: "sev1 5x8", addr: "alice@acme.test", sev: 1, respond: at(11, 26, 11, 0), solve: at(11, 26, 14, 30), priority: "normal", engine: "eng1@example.com",
			want: []string{"rec:opened", "rec:message_in", "rec:assigned", "cust:ack", "staff:notify_new>desk@example.com",
				"staff:notify_new>csm@example.com", "staff:notify_new>quality@example.com", "staff:notify_assigned>eng1@example.com",
				"!staff:notify_new>eng1@example.com"}},
		{name: "sev2 5x8", addr: "alice@acme.test", sev: 2, respond: at(11, 26, 14, 30), solve: at(11, 27, 9, 30), priority: "normal", engine: "eng1@example.com"},
		{name: "sev3 5x8", addr: "alice@acme.test", sev: 3, respond: at(11, 27, 9, 30), solve: at(12, 1, 10, 30), priority: "normal"},
		{name: "sev4 5x8", addr: "alice@acme.test", sev: 4, respond: at(11, 27, 9, 30), solve: at(12, 4, 12, 0), priority: "normal"},
		// §1 7×24: wall clock, high priority, respond capped at 4 hours.
		{name: "sev1 7x24", addr: "carol@globex.test", sev: 1, respond: at(11, 26, 11, 0), solve: at(11, 26, 13, 0), priority: "high", engine: "eng2@example.com"},
		{name: "sev3 7x24 capped", addr: "carol@globex.test", sev: 3, respond: at(11, 26, 13, 0), solve: at(11, 27, 9, 0), priority: "high"},
		// §1.3: the acknowledgement promises the second reply (30m), not
		// to severity 4 (first and last only).
		{name: "ack promises second reply", addr: "alice@acme.test", sev: 2, check: func(c *Case) error {
			if c.RepliesSent != 1 || !c.LastReplyAt.Equal(thu) {
				return fmt.Errorf("ack not counted as the first reply: %d %v", c.RepliesSent, c.LastReplyAt)
			}
			return nil
		}},
		// §11.4: over the limit the acknowledgement is suppressed, staff
		// are told once per sender and hour.
		{name: "ack suppressed, staff told", addr: "alice@acme.test", sev: 3, f: Facts{AcksToSender: 10},
			want: []string{"rec:auto_reply_suppressed", "staff:staff_notice>csm@example.com", "staff:staff_notice>desk@example.com", "!cust:ack"},
			check: func(c *Case) error {
				if c.RepliesSent != 0 {
					return fmt.Errorf("suppressed ack counted as sent")
				}
				return nil
			}},
		{name: "ack suppressed, staff already told", addr: "alice@acme.test", sev: 3, f: Facts{AcksToSender: 10, SuppressionTold: true},
			want: []string{"rec:auto_reply_suppressed", "!staff:staff_notice", "!cust:ack"}},
		// §11.1: archived backlog mail is history: closed, nothing sent;
		// the opening and its mail happened at the mail's date, only the
		// import is now.
		{name: "archived", addr: "alice@acme.test", sev: 3, in: func(in *OpenInput) { in.Archived, in.At = true, at(10, 20, 8, 0) },
			want: []string{"rec:opened", "rec:imported", "!cust:", "!staff:",
				"at:opened@10-20 08:00", "at:message_in@10-20 08:00", "at:imported@now"},
			check: func(c *Case) error {
				if c.Status != StatusClosed || !c.OpenedAt.Equal(at(10, 20, 8, 0)) || !c.ClosedAt.Equal(c.OpenedAt) || !c.RespondBy.IsZero() {
					return fmt.Errorf("archived case = %+v", c)
				}
				if len(Timers(cfg, c, thu)) != 0 {
					return fmt.Errorf("archived case has timers %v", Timers(cfg, c, thu))
				}
				return nil
			}},
		// §11.7: an inspection case tells its engineer, not the customer.
		{name: "inspection", addr: "peter@initech.test", sev: 4, in: func(in *OpenInput) {
			in.Kind, in.PlannedDate, in.Via = KindInspection, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), "schedule"
		}, want: []string{"rec:inspection_due", "staff:staff_notice>eng1@example.com", "!cust:"},
			check: func(c *Case) error {
				// 2 working days after Thu: the end of Mon 2026-11-30.
				if !c.ReportDueBy.Equal(at(11, 30, 18, 0)) || !c.RespondBy.IsZero() || !c.SolveOnlineBy.IsZero() {
					return fmt.Errorf("inspection deadlines: report %v respond %v solve %v", c.ReportDueBy, c.RespondBy, c.SolveOnlineBy)
				}
				return nil
			}},
		// §11.8: a visit request: acknowledged, no online-solution clock.
		{name: "installation visit", addr: "peter@initech.test", sev: 3, in: func(in *OpenInput) {
			in.Kind, in.PlannedDate = KindInstallation, time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
		}, want: []string{"cust:ack", "staff:notify_assigned>eng1@example.com"},
			check: func(c *Case) error {
				if !c.SolveOnlineBy.IsZero() || c.Kind != KindInstallation {
					return fmt.Errorf("visit: kind %s solve %v", c.Kind, c.SolveOnlineBy)
				}
				// Reminded the working day before (Wed 12-02) at its first working minute.
				if got := Timers(cfg, c, thu)[TimerRemind]; !got.Equal(at(12, 2, 9, 0)) {
					return fmt.Errorf("reminder at %v", got)
				}
				return nil
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cu, _ := cfg.CustomerFor(tt.addr)
			in := OpenInput{Email: tt.addr, Subject: "Printer down", Description: "It broke.", Severity: tt.sev, Actor: tt.addr}
			if tt.in != nil {
				tt.in(&in)
			}
			d := Open(cfg, in, cu, tt.f, thu)
			if err := has(acts(d.Actions), tt.want...); err != nil {
				t.Error(err)
			}
			c := d.Case
			if !tt.respond.IsZero() && !c.RespondBy.Equal(tt.respond) {
				t.Errorf("respond_by = %v, want %v", c.RespondBy.In(sh), tt.respond)
			}
			if !tt.solve.IsZero() && !c.SolveOnlineBy.Equal(tt.solve) {
				t.Errorf("solve_online_by = %v, want %v", c.SolveOnlineBy.In(sh), tt.solve)
			}
			if tt.priority != "" && c.Priority != tt.priority {
				t.Errorf("priority = %s, want %s", c.Priority, tt.priority)
			}
			if tt.engine != "" && c.Engineer != tt.engine {
				t.Errorf("engineer = %s, want %s", c.Engineer, tt.engine)
			}
			if tt.check != nil {
				if err := tt.check(c); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestAckPromiseFollowsTheSchedule(t *testing.T) {
	for _, tt := range []struct {
		second time.Duration
		sev    int
		want   time.Duration
	}{{30 * time.Minute, 2, 30 * time.Minute}, {45 * time.Minute, 1, 45 * time.Minute}, {30 * time.Minute, 4, 0}} {
		cfg := rulesCfg(t, func(c *config.Config) { c.Replies.Second = tt.second })
		cu, _ := cfg.CustomerFor("alice@acme.test")
		d := Open(cfg, OpenInput{Email: "alice@acme.test", Severity: tt.sev}, cu, Facts{}, thu)
		var ack ToCustomer
		for _, a := range d.Actions {
			if a, ok := a.(ToCustomer); ok && a.Template == "ack" {
				ack = a
			}
		}
		if ack.Msg.Duration != tt.want || !ack.Ack || ack.Auto != AutoReplied {
			t.Errorf("second %v sev %d: ack promises %v (ack %v, %s), want %v", tt.second, tt.sev, ack.Msg.Duration, ack.Ack, ack.Auto, tt.want)
		}
	}
}

// caseWith returns an opened ACME severity-2 case at thu, changed by edit.
func caseWith(t *testing.T, cfg *config.Config, addr string, sev int, edit func(*Case)) *Case {
	c := opened(t, cfg, addr, sev, thu)
	if edit != nil {
		edit(c)
	}
	return c
}

var (
	eng1 = config.Staff{Name: "Eng One", Email: "eng1@example.com", Roles: []string{"engineer"}, Regions: []string{"north"}}
	scm  = config.Staff{Name: "SCM", Email: "scm@example.com", Roles: []string{"service_centre_manager"}}
)

type rule struct {
	name  string
	addr  string // the case's contact, default alice@acme.test
	sev   int    // default 2
	cfg   func(*config.Config)
	setup func(*Case)
	ev    Trigger
	f     Facts
	now   time.Time // default thu+1h
	want  []string
	check func(*Case) error
}

func runRules(t *testing.T, rules []rule) {
	t.Helper()
	for _, tt := range rules {
		t.Run(tt.name, func(t *testing.T) {
			var edits []func(*config.Config)
			if tt.cfg != nil {
				edits = append(edits, tt.cfg)
			}
			cfg := rulesCfg(t, edits...)
			addr, sev, now := tt.addr, tt.sev, tt.now
			if addr == "" {
				addr = "alice@acme.test"
			}
			if sev == 0 {
				sev = 2
			}
			if now.IsZero() {
				now = thu.Add(time.Hour)
			}
			c := caseWith(t, cfg, addr, sev, tt.setup)
			before := *c
			d := Decide(cfg, c, tt.ev, tt.f, now)
			if err := has(acts(d.Actions), tt.want...); err != nil {
				t.Error(err)
			}
			if before.Priority != c.Priority || before.Status != c.Status {
				t.Error("Decide changed its input")
			}
			if tt.check != nil {
				if err := tt.check(d.Case); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func staffMail(from config.Staff, text string) StaffMail {
	return StaffMail{Staff: from, MessageID: "s1@example.com", Text: text}
}

func statusIs(want string) func(*Case) error {
	return func(c *Case) error {
		if c.Status != want {
			return fmt.Errorf("status = %s, want %s", c.Status, want)
		}
		return nil
	}
}

// TestReplySchedule covers SPEC §1.3.
func TestReplySchedule(t *testing.T) {
	runRules(t, []rule{
		{name: "second reply at +30m", ev: TimerFired{TimerReply}, now: thu.Add(30 * time.Minute), f: Facts{LastStaffReply: "Looking at it"},
			want: []string{"cust:status"}, check: func(c *Case) error {
				if c.RepliesSent != 2 {
					return fmt.Errorf("replies = %d", c.RepliesSent)
				}
				cfg := rulesCfg(t)
				if next := Timers(cfg, c, thu.Add(30*time.Minute))[TimerReply]; !next.Equal(thu.Add(90 * time.Minute)) {
					return fmt.Errorf("third reply due %v, want every 1h after the second", next)
				}
				return nil
			}},
		{name: "customer's own interval", addr: "carol@globex.test", ev: TimerFired{TimerReply}, now: thu.Add(30 * time.Minute), want: []string{"cust:status"},
			check: func(c *Case) error {
				if next := Timers(rulesCfg(t), c, thu.Add(30*time.Minute))[TimerReply]; !next.Equal(thu.Add(150 * time.Minute)) {
					return fmt.Errorf("next reply %v, want the customer's 2h", next)
				}
				return nil
			}},
		{name: "severity 4 gets first and last only, no daily report", sev: 4, ev: TimerFired{TimerDaily}, want: []string{"!staff:daily"},
			check: func(c *Case) error {
				tm := Timers(rulesCfg(t), c, thu)
				if _, ok := tm[TimerReply]; ok {
					return fmt.Errorf("severity 4 has a reply timer after the acknowledgement")
				}
				if _, ok := tm[TimerDaily]; ok {
					return fmt.Errorf("severity 4 has a daily report")
				}
				return nil
			}},
		{name: "staff reply inside a window counts as it", ev: staffMail(eng1, "We are on it."), now: thu.Add(20 * time.Minute),
			want: []string{"cust:relay", "rec:reply_out"}, check: func(c *Case) error {
				if c.RepliesSent != 2 || !c.RespondedAt.Equal(thu.Add(20*time.Minute)) {
					return fmt.Errorf("replies %d responded %v", c.RepliesSent, c.RespondedAt)
				}
				if next := Timers(rulesCfg(t), c, thu.Add(20*time.Minute))[TimerReply]; !next.Equal(thu.Add(80 * time.Minute)) {
					return fmt.Errorf("next window %v, want from the staff reply", next)
				}
				return nil
			}},
		{name: "5x8: no status reply at night, the next working minute instead", ev: TimerFired{TimerReply},
			setup: func(c *Case) { c.RepliesSent, c.LastReplyAt = 2, at(11, 26, 17, 30) }, now: at(11, 26, 17, 30),
			check: func(c *Case) error {
				c.RepliesSent, c.LastReplyAt = 2, at(11, 26, 17, 30)
				if next := NextReplyDue(rulesCfg(t), c); !next.Equal(at(11, 27, 9, 0)) {
					return fmt.Errorf("next reply %v, want Fri 09:00", next.In(sh))
				}
				return nil
			}},
		{name: "7x24: status replies at night", addr: "carol@globex.test", ev: TimerFired{TimerReply},
			check: func(c *Case) error {
				c.RepliesSent, c.LastReplyAt = 2, at(11, 26, 23, 0)
				if next := NextReplyDue(rulesCfg(t), c); !next.Equal(at(11, 27, 1, 0)) {
					return fmt.Errorf("next reply %v, want 01:00 (Globex every 2h)", next.In(sh))
				}
				return nil
			}},
		{name: "status replies are never limited", ev: TimerFired{TimerReply}, f: Facts{AcksToSender: 99}, want: []string{"cust:status"}},
		{name: "a bounced address gets no scheduled reply", setup: func(c *Case) { c.BouncedAt = thu }, ev: TimerFired{TimerReply},
			want: []string{"!cust:", "rec:note"}, check: func(c *Case) error {
				if _, ok := Timers(rulesCfg(t), c, thu.Add(time.Hour))[TimerReply]; ok {
					return fmt.Errorf("reply timer set for a bounced address")
				}
				return nil
			}},
		{name: "daily report at the end of the working day", ev: TimerFired{TimerDaily}, now: at(11, 26, 18, 0), want: []string{"staff:daily>csm@example.com"}},
		{name: "no reply once resolved", setup: func(c *Case) { c.Status = StatusResolved }, ev: TimerFired{TimerReply}, want: []string{"!cust:"}},
	})
}

// TestEscalation covers SPEC §1.4.
func TestEscalation(t *testing.T) {
	chain := func(roles ...string) func(*config.Config) {
		return func(c *config.Config) { c.Escalation.Chain = roles }
	}
	prio := func(want string, level int) func(*Case) error {
		return func(c *Case) error {
			if c.Priority != want || c.EscalationLevel != level {
				return fmt.Errorf("priority %s level %d, want %s %d", c.Priority, c.EscalationLevel, want, level)
			}
			return nil
		}
	}
	runRules(t, []rule{
		{name: "respond slip 1 goes one up from the engineer", ev: TimerFired{TimerRespond}, now: at(11, 26, 14, 30),
			want: []string{"rec:escalated", "staff:escalation>csm@example.com", "!staff:escalation>eng1@example.com"}, check: prio("high", 1)},
		{name: "respond slip 2 climbs", setup: func(c *Case) { c.EscalationLevel, c.Priority = 1, "high" }, ev: TimerFired{TimerRespond},
			want: []string{"staff:escalation>scm@example.com"}, check: prio("urgent", 2)},
		{name: "respond slip stays at the top", setup: func(c *Case) { c.EscalationLevel, c.Priority = 5, "critical" }, ev: TimerFired{TimerRespond},
			want: []string{"staff:escalation>scm@example.com"}, check: prio("critical", 6)},
		{name: "a chain without the engineer starts at its first step", cfg: chain("customer_service_manager", "service_centre_manager"),
			ev: TimerFired{TimerRespond}, want: []string{"staff:escalation>csm@example.com", "!staff:escalation>scm@example.com"}},
		{name: "an engineer step is the case's own engineer", cfg: chain("specialist", "engineer", "service_centre_manager"),
			setup: func(c *Case) { c.EscalationLevel = 1 }, ev: TimerFired{TimerRespond},
			want: []string{"staff:escalation>eng1@example.com", "!staff:escalation>eng2@example.com"}},
		{name: "no respond escalation after a staff response", setup: func(c *Case) { c.RespondedAt = thu }, ev: TimerFired{TimerRespond}, want: []string{"!rec:escalated"}},
		{name: "next respond check is one respond interval later", ev: TimerFired{TimerRespond}, now: at(11, 26, 14, 30), check: func(c *Case) error {
			if !c.NextRespondCheck.Equal(at(11, 27, 9, 30)) {
				return fmt.Errorf("next check %v", c.NextRespondCheck.In(sh))
			}
			return nil
		}},
		{name: "warning before respond_by", ev: TimerFired{TimerRespondWarn}, want: []string{"staff:warning>eng1@example.com"}},
		{name: "warning before solve_online_by", ev: TimerFired{TimerSolveWarn}, want: []string{"staff:warning>eng1@example.com"}},
		{name: "engineer stuck", ev: TimerFired{TimerStuck}, now: thu.Add(30 * time.Minute),
			want: []string{"rec:escalated", "staff:escalation>csm@example.com", "staff:escalation>impl@example.com"},
			check: func(c *Case) error {
				if !c.StuckEscalated {
					return fmt.Errorf("stuck not marked")
				}
				return nil
			}},
		{name: "solve slip with on-site service asks to dispatch", ev: TimerFired{TimerSolve},
			want: []string{"staff:escalation>csm@example.com", "staff:escalation>scm@example.com", "!cust:visit_offer"},
			check: func(c *Case) error {
				if !c.OnsiteNeeded {
					return fmt.Errorf("on-site not flagged")
				}
				return nil
			}},
		{name: "solve slip without on-site service offers a visit", addr: "carol@globex.test", ev: TimerFired{TimerSolve},
			want: []string{"staff:escalation>csm@example.com", "cust:visit_offer"}},
		{name: "onsite slip", setup: func(c *Case) { c.OnsiteEngineer, c.OnsiteBy = "eng1@example.com", thu }, ev: TimerFired{TimerOnsite},
			want: []string{"rec:escalated", "staff:escalation>scm@example.com"}},
		{name: "no onsite escalation after arrival", setup: func(c *Case) { c.OnsiteBy, c.OnsiteArrivedAt = thu, thu }, ev: TimerFired{TimerOnsite},
			want: []string{"!rec:escalated"}},
		{name: "inspection report late escalates like a solve slip", addr: "peter@initech.test",
			setup: func(c *Case) { c.Kind, c.ReportDueBy = KindInspection, thu }, ev: TimerFired{TimerReport},
			want: []string{"rec:escalated", "staff:escalation>csm@example.com", "staff:escalation>scm@example.com"}},
		{name: "visit reminder once", addr: "peter@initech.test",
			setup: func(c *Case) { c.Kind, c.PlannedDate = KindInstallation, time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC) },
			ev:    TimerFired{TimerRemind}, want: []string{"rec:reminded", "staff:staff_notice>eng1@example.com"},
			check: func(c *Case) error {
				if c.RemindedAt.IsZero() {
					return fmt.Errorf("not marked reminded")
				}
				if _, ok := Timers(rulesCfg(t), c, thu)[TimerRemind]; ok {
					return fmt.Errorf("reminder set again")
				}
				return nil
			}},
	})
}

// TestStaffCommands covers SPEC §4 and §11.8.
func TestStaffCommands(t *testing.T) {
	runRules(t, []rule{
		{name: "public reply relayed", ev: staffMail(eng1, "Please restart it."), want: []string{"cust:relay", "rec:reply_out"}},
		{name: "direct reply recorded, not relayed", ev: StaffMail{Staff: eng1, Text: "Done.", Direct: true}, want: []string{"rec:reply_out", "!cust:"}},
		{name: "note to the case's staff but the writer", ev: staffMail(eng1, "/note checked the logs"),
			want: []string{"rec:note", "staff:note>csm@example.com", "!staff:note>eng1@example.com", "!cust:"}},
		{name: "note further down keeps the mail internal", ev: staffMail(eng1, "Hi team,\n/note internal only"),
			want: []string{"rec:note", "!cust:"}},
		{name: "severity", ev: staffMail(eng1, "/severity 1"), want: []string{"rec:severity_changed", "!cust:"},
			check: func(c *Case) error {
				if c.Severity != 1 || !c.RespondBy.Equal(at(11, 26, 11, 0)) {
					return fmt.Errorf("severity %d respond %v", c.Severity, c.RespondBy)
				}
				return nil
			}},
		{name: "assign", ev: staffMail(eng1, "/assign eng2@example.com"), want: []string{"rec:assigned", "staff:notify_assigned>eng2@example.com"}},
		{name: "priority up", ev: staffMail(eng1, "/priority up"), want: []string{"rec:priority_changed"},
			check: func(c *Case) error {
				if c.Priority != "high" {
					return fmt.Errorf("priority %s", c.Priority)
				}
				return nil
			}},
		{name: "resolve asks to confirm", ev: staffMail(eng1, "/resolve"),
			want: []string{"rec:resolved", "staff:resolved_notice>scm@example.com", "cust:confirm_request"}, check: statusIs(StatusResolved)},
		{name: "resolve with text: one mail with the note", ev: staffMail(eng1, "/resolve\nReplaced the fuser."),
			want: []string{"cust:confirm_request", "!cust:relay"}, check: func(c *Case) error {
				if c.ResolutionNote != "Replaced the fuser." {
					return fmt.Errorf("note %q", c.ResolutionNote)
				}
				return nil
			}},
		{name: "a command after a greeting is applied", ev: staffMail(eng1, "您好，\n/resolve\n已更换硒鼓。"),
			want: []string{"rec:resolved", "cust:confirm_request", "!cust:relay"}, check: func(c *Case) error {
				if c.ResolutionNote != "您好，\n已更换硒鼓。" {
					return fmt.Errorf("note %q", c.ResolutionNote)
				}
				return nil
			}},
		{name: "review: confirmation waits for approval", cfg: func(c *config.Config) { c.Closing.Review = true }, ev: staffMail(eng1, "/resolve"),
			want: []string{"rec:resolved", "!cust:confirm_request"}},
		{name: "approve by the service centre manager", cfg: func(c *config.Config) { c.Closing.Review = true },
			setup: func(c *Case) { c.Status, c.ResolutionNote = StatusResolved, "fixed" }, ev: staffMail(scm, "/approve"),
			want: []string{"rec:approved", "cust:confirm_request"}},
		{name: "approve by an engineer is refused", cfg: func(c *config.Config) { c.Closing.Review = true },
			setup: func(c *Case) { c.Status = StatusResolved }, ev: staffMail(eng1, "/approve"),
			want: []string{"rec:command_error", "cmd>eng1@example.com", "!cust:"}},
		{name: "bad command changes nothing", ev: staffMail(eng1, "/severity 9\n/priority up"),
			want: []string{"rec:command_error", "cmd>eng1@example.com", "!rec:priority_changed"},
			check: func(c *Case) error {
				if c.Priority != "normal" {
					return fmt.Errorf("priority changed by a refused mail")
				}
				return nil
			}},
		{name: "unknown command at the top", ev: staffMail(eng1, "/frobnicate"), want: []string{"cmd>eng1@example.com"}},
		{name: "a path in the text is not a command", ev: staffMail(eng1, "Please check:\n/var/log/messages"), want: []string{"cust:relay", "!cmd>"}},
		{name: "dispatch with on-site service", ev: staffMail(eng1, "/onsite dispatch eng1@example.com"),
			want: []string{"rec:onsite_dispatched", "staff:staff_notice>eng1@example.com"}, check: func(c *Case) error {
				// severity 2 onsite: 3 working days on the 5×8 calendar: end of Tue 12-01.
				if !c.OnsiteBy.Equal(at(12, 1, 18, 0)) || !c.DispatchedAt.Equal(thu.Add(time.Hour)) {
					return fmt.Errorf("onsite_by %v dispatched %v", c.OnsiteBy.In(sh), c.DispatchedAt)
				}
				return nil
			}},
		{name: "dispatch without on-site service refused", addr: "carol@globex.test", ev: staffMail(eng1, "/onsite dispatch eng1@example.com"),
			want: []string{"rec:command_error", "cmd>eng1@example.com", "!rec:onsite_dispatched"}},
		{name: "billable dispatch without on-site service", addr: "carol@globex.test", ev: staffMail(eng1, "/onsite dispatch eng1@example.com --billable"),
			want: []string{"rec:onsite_dispatched"}, check: func(c *Case) error {
				if !c.Billable {
					return fmt.Errorf("not marked billable")
				}
				return nil
			}},
		{name: "7x24 on-site counts wall clock", addr: "peter@initech.test", sev: 1, ev: staffMail(eng1, "/onsite dispatch eng1@example.com"),
			check: func(c *Case) error {
				if !c.OnsiteBy.Equal(thu.Add(25 * time.Hour)) {
					return fmt.Errorf("onsite_by %v, want 24h after dispatch", c.OnsiteBy.In(sh))
				}
				return nil
			}},
		{name: "severity change after dispatch keeps the dispatch clock",
			setup: func(c *Case) {
				c.OnsiteEngineer, c.DispatchedAt = "eng1@example.com", thu
				c.OnsiteBy = OnsiteDeadlineFor(rulesCfg(t), c, thu)
			},
			ev: staffMail(eng1, "/severity 1"), now: thu.Add(12 * time.Hour), check: func(c *Case) error {
				// severity 1 on site: 24h (wall clock) after the dispatch, not after the change.
				if !c.OnsiteBy.Equal(thu.Add(24 * time.Hour)) {
					return fmt.Errorf("onsite_by %v, want 24h after the dispatch", c.OnsiteBy.In(sh))
				}
				return nil
			}},
		{name: "arrived", setup: func(c *Case) { c.OnsiteEngineer = "eng1@example.com" }, ev: staffMail(eng1, "/onsite arrived"),
			want: []string{"rec:onsite_arrived"}},
		{name: "arrived without dispatch", ev: staffMail(eng1, "/onsite arrived"), want: []string{"cmd>eng1@example.com"}},
		{name: "part", ev: staffMail(eng1, "/part fuser unit"), want: []string{"rec:part"}},
		{name: "close tells the customer and sets the resolution time", ev: staffMail(eng1, "/close"),
			want: []string{"rec:closed", "cust:status"}, check: func(c *Case) error {
				if c.Status != StatusClosed || c.ResolvedAt.IsZero() || c.ClosedAt.IsZero() {
					return fmt.Errorf("closed %v resolved %v", c.ClosedAt, c.ResolvedAt)
				}
				return nil
			}},
		{name: "reopen by staff restarts the clocks", setup: func(c *Case) { c.Status, c.ClosedAt = StatusClosed, thu }, ev: staffMail(eng1, "/reopen"),
			want: []string{"rec:reopened", "cust:status"}, check: func(c *Case) error {
				if c.Status != StatusOpen || !c.ClockStart.Equal(thu.Add(time.Hour)) {
					return fmt.Errorf("status %s clock %v", c.Status, c.ClockStart)
				}
				return nil
			}},
		{name: "scope consulting stops the clocks", ev: staffMail(eng1, "/scope consulting"),
			want: []string{"rec:kind_changed", "staff:notify_new>consult@example.com", "cust:consulting"},
			check: func(c *Case) error {
				if c.Kind != KindConsulting || len(Timers(rulesCfg(t), c, thu)) != 0 {
					return fmt.Errorf("kind %s timers %v", c.Kind, Timers(rulesCfg(t), c, thu))
				}
				return nil
			}},
		{name: "kind training refused without installation", ev: staffMail(eng1, "/kind training 2026-12-03"), want: []string{"cmd>eng1@example.com"}},
		{name: "kind training with installation", addr: "peter@initech.test", ev: staffMail(eng1, "/kind training 2026-12-03"),
			want: []string{"rec:kind_changed"}, check: func(c *Case) error {
				if c.Kind != KindTraining || c.PlannedDate.Format(time.DateOnly) != "2026-12-03" {
					return fmt.Errorf("kind %s date %v", c.Kind, c.PlannedDate)
				}
				return nil
			}},
		{name: "done ends a visit", addr: "peter@initech.test", setup: func(c *Case) { c.Kind = KindInstallation }, ev: staffMail(eng1, "/done"),
			want: []string{"rec:done", "rec:closed"}, check: statusIs(StatusClosed)},
		{name: "done is not for faults", ev: staffMail(eng1, "/done"), want: []string{"cmd>eng1@example.com"}},
		{name: "unauthenticated staff mail is a note", ev: StaffMail{Staff: eng1, Text: "/close", Unauthenticated: true},
			want: []string{"rec:note", "staff:staff_notice>csm@example.com", "!rec:closed"}},
		{name: "console command", ev: Console{Text: "/part toner"}, want: []string{"rec:part"}},
		{name: "console refusal", addr: "carol@globex.test", ev: Console{Text: "/onsite dispatch eng1@example.com"}, want: []string{"cmd>", "rec:command_error"}},
		{name: "inspection report relayed with its attachment", addr: "peter@initech.test", setup: func(c *Case) { c.Kind = KindInspection },
			ev: StaffMail{Staff: eng1, Text: "Report attached.", Attachment: []int64{3}}, want: []string{"cust:inspection_report", "rec:resolved"}},
	})
}

// TestCustomerAndOthers covers SPEC §1.5, §2 and §3.
func TestCustomerAndOthers(t *testing.T) {
	cust := func(text string) CustomerMail {
		return CustomerMail{From: "alice@acme.test", MessageID: "c2@acme.test", Text: text, Match: MatchToken}
	}
	resolved := func(c *Case) { c.Status, c.ResolvedAt, c.ConfirmAskedAt = StatusResolved, thu, thu }
	runRules(t, []rule{
		{name: "new information tells the engineer", ev: cust("It also smokes."), want: []string{"rec:message_in", "staff:staff_notice>eng1@example.com"}},
		{name: "customer commands are ignored", ev: cust("/close"), want: []string{"rec:note", "!rec:closed"}, check: statusIs(StatusOpen)},
		{name: "confirm closes", setup: resolved, ev: cust("已解决，谢谢"), want: []string{"rec:confirmed", "rec:closed", "staff:confirmed_notice>csm@example.com"},
			check: statusIs(StatusClosed)},
		{name: "confirm word in English", setup: resolved, ev: cust("Yes, solved."), check: statusIs(StatusClosed)},
		{name: "a negated confirm word reopens", setup: resolved, ev: cust("Not solved, still broken"), want: []string{"rec:reopened", "cust:status"}, check: statusIs(StatusOpen)},
		{name: "any other reply reopens and restarts the clocks", setup: resolved, ev: cust("still broken"),
			want: []string{"rec:reopened", "staff:reopened_notice>eng1@example.com"}, check: func(c *Case) error {
				if c.Status != StatusOpen || !c.ClockStart.Equal(thu.Add(time.Hour)) || !c.RespondBy.After(thu.Add(time.Hour)) {
					return fmt.Errorf("status %s clock %v respond %v", c.Status, c.ClockStart, c.RespondBy)
				}
				return nil
			}},
		{name: "closed within the reopen window reopens", setup: func(c *Case) { c.Status, c.ClosedAt = StatusClosed, thu }, ev: cust("again"),
			want: []string{"rec:reopened"}, check: statusIs(StatusOpen)},
		{name: "after the reopen window a follow-up opens", setup: func(c *Case) { c.Status, c.ClosedAt = StatusClosed, thu.Add(-800*time.Hour) },
			ev: cust("again"), want: []string{"follow", "!rec:reopened"}, check: statusIs(StatusClosed)},
		{name: "auto close after no answer", setup: resolved, ev: TimerFired{TimerAutoClose}, now: thu.Add(168 * time.Hour),
			want: []string{"rec:closed", "cust:closed"}, check: statusIs(StatusClosed)},
		{name: "third party is recorded only", ev: ThirdPartyMail{From: "mallory@evil.test", Text: "/close"}, want: []string{"rec:message_in", "!rec:closed", "!staff:"}},
		{name: "automatic mail never changes the case", setup: resolved, ev: AutoMail{From: "alice@acme.test", Reason: "out of office"},
			want: []string{"rec:auto_message", "!cust:", "!staff:"}, check: statusIs(StatusResolved)},
		{name: "archived mail on a closed case moves its reopen window", setup: func(c *Case) { c.Status, c.ClosedAt = StatusClosed, thu.Add(-48*time.Hour) },
			ev: ArchivedMail{From: "alice@acme.test", At: thu.Add(-24 * time.Hour)}, want: []string{"rec:message_in", "at:message_in@11-25 09:00", "!cust:"},
			check: func(c *Case) error {
				if !c.ClosedAt.Equal(thu.Add(-24 * time.Hour)) {
					return fmt.Errorf("closed_at %v", c.ClosedAt)
				}
				return nil
			}},
		{name: "mail from a bounced address resumes replies", setup: func(c *Case) { c.BouncedAt = thu }, ev: cust("new number: 123"),
			check: func(c *Case) error {
				if !c.BouncedAt.IsZero() {
					return fmt.Errorf("still marked bounced")
				}
				return nil
			}},
		{name: "permanent failure to the contact stops the schedule", ev: DeliveryFailed{Kind: "status", Rcpt: "alice@acme.test", Status: "5.1.1", Bounce: true},
			want: []string{"rec:delivery_failed", "staff:staff_notice>eng1@example.com", "staff:staff_notice>csm@example.com", "!cust:"},
			check: func(c *Case) error {
				if c.BouncedAt.IsZero() {
					return fmt.Errorf("not marked bounced")
				}
				return nil
			}},
		{name: "a delay is a note", ev: DeliveryFailed{Kind: "status", Rcpt: "alice@acme.test", Status: "4.4.1", Delayed: true},
			want: []string{"rec:delivery_delayed", "!staff:", "!rec:delivery_failed"}},
		{name: "failed staff notice does not loop", ev: DeliveryFailed{Kind: "staff_notice", Rcpt: "csm@example.com"}, want: []string{"rec:delivery_failed", "!staff:"}},
	})
}

func TestArchiveRule(t *testing.T) {
	first := thu
	for _, tt := range []struct {
		name     string
		all      bool
		sync, at time.Time
		want     bool
	}{
		{"older than the backlog", false, first, first.Add(-25 * time.Hour), true},
		{"within the backlog", false, first, first.Add(-23 * time.Hour), false},
		{"later sync", false, time.Time{}, first.Add(-1000 * time.Hour), false},
		{"answer all", true, first, first.Add(-1000 * time.Hour), false},
	} {
		cfg := rulesCfg(t, func(c *config.Config) { c.Mailbox.AnswerAll = tt.all })
		if got := Archive(cfg, tt.sync, tt.at); got != tt.want {
			t.Errorf("%s: Archive = %v", tt.name, got)
		}
	}
}

func TestChainStep(t *testing.T) {
	cfg := rulesCfg(t)
	for level, want := range map[int]string{1: "customer_service_manager", 2: "service_centre_manager", 3: "service_centre_manager"} {
		if got := ChainStep(cfg, level); got != want {
			t.Errorf("level %d: %s, want %s", level, got, want)
		}
	}
}

func TestCheckOpen(t *testing.T) {
	cfg := rulesCfg(t)
	acme, initech := &cfg.Customers[0], &cfg.Customers[2]
	if err := CheckOpen(cfg, OpenInput{Severity: 2, Kind: KindTraining}, acme); err == nil {
		t.Error("training without installation accepted")
	}
	if err := CheckOpen(cfg, OpenInput{Severity: 2, Kind: KindTraining}, initech); err != nil {
		t.Error(err)
	}
	if err := CheckOpen(cfg, OpenInput{Severity: 9}, acme); err == nil {
		t.Error("severity 9 accepted")
	}
	cfg.Policy.UnknownSenders = "ignore"
	if err := CheckOpen(cfg, OpenInput{Severity: 2, Company: "Nobody"}, nil); err == nil {
		t.Error("unknown company accepted with unknown_senders = ignore")
	}
}

func TestInspectionSchedule(t *testing.T) {
	cfg := rulesCfg(t)
	initech := &cfg.Customers[2]
	day := func(m time.Month, d int) calendar.Date { return calendar.Date{Year: 2026, Month: m, Day: d} }
	tests := []struct {
		name      string
		sched     []string
		services  []string
		cur       InspectionCursor
		now       time.Time
		want      []string // "remind 2026-12-05", "open 2026-12-05", "late 2026-12-05"
		wantNext  calendar.Date
		wantRemin calendar.Date
	}{
		{name: "monthly, the day before: reminder", sched: []string{"monthly 3"}, cur: InspectionCursor{Next: day(12, 1)},
			now: at(12, 2, 9, 0), want: []string{"remind 2026-12-03"}, wantNext: day(12, 1), wantRemin: day(12, 3)},
		{name: "reminded once", sched: []string{"monthly 3"}, cur: InspectionCursor{Next: day(12, 1), Reminded: day(12, 3)},
			now: at(12, 2, 15, 0), want: nil, wantNext: day(12, 1), wantRemin: day(12, 3)},
		{name: "opens at the first working minute", sched: []string{"monthly 3"}, cur: InspectionCursor{Next: day(12, 1), Reminded: day(12, 3)},
			now: at(12, 3, 9, 0), want: []string{"open 2026-12-03"}, wantNext: day(12, 4), wantRemin: day(12, 3)},
		{name: "not before", sched: []string{"monthly 3"}, cur: InspectionCursor{Next: day(12, 1), Reminded: day(12, 3)},
			now: at(12, 3, 8, 59), want: nil, wantNext: day(12, 1)},
		// Sat 2026-12-05 is no working day: it opens Mon 12-07, reminded Fri 12-04.
		{name: "weekend day moves to the next working day", sched: []string{"monthly 5"}, cur: InspectionCursor{Next: day(12, 1)},
			now: at(12, 4, 9, 0), want: []string{"remind 2026-12-05"}},
		{name: "missed while down: each opens once, late", sched: []string{"weekly mon"}, cur: InspectionCursor{Next: day(11, 16)},
			now: at(12, 1, 10, 0), want: []string{"late 2026-11-16", "late 2026-11-23", "late 2026-11-30"}, wantNext: day(12, 1)},
		{name: "quarterly only in Jan, Apr, Jul, Oct", sched: []string{"quarterly 15"}, cur: InspectionCursor{Next: day(11, 1)},
			now: at(12, 31, 10, 0), want: nil, wantNext: day(11, 1)},
		{name: "without the inspection service nothing", sched: []string{"monthly 3"}, services: []string{"hotline", "email"},
			cur: InspectionCursor{Next: day(12, 1)}, now: at(12, 3, 10, 0), want: nil, wantNext: day(12, 1)},
		{name: "first seen today after its time: opens, not late", sched: []string{"2026-12-10"},
			cur: InspectionCursor{Next: day(12, 10), Since: at(12, 10, 15, 0)}, now: at(12, 10, 15, 0),
			want: []string{"open 2026-12-10"}, wantNext: day(12, 11)},
		{name: "a date", sched: []string{"2026-12-10"}, cur: InspectionCursor{Next: day(12, 1)}, now: at(12, 10, 9, 30),
			want: []string{"open 2026-12-10"}, wantNext: day(12, 11)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cu := *initech
			cu.Inspections = nil
			for _, s := range tt.sched {
				e, err := config.ParseInspection(s)
				if err != nil {
					t.Fatal(err)
				}
				cu.Inspections = append(cu.Inspections, e)
			}
			if tt.services != nil {
				cu.Services = tt.services
			}
			steps, cur := Inspections(cfg, &cu, tt.cur, tt.now)
			var got []string
			for _, s := range steps {
				w := "open "
				switch {
				case s.Remind:
					w = "remind "
				case s.Late:
					w = "late "
				}
				got = append(got, w+s.Day.String())
				if s.Engineer != "eng1@example.com" {
					t.Errorf("engineer %q", s.Engineer)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("steps = %v, want %v", got, tt.want)
			}
			if tt.wantNext != (calendar.Date{}) && cur.Next != tt.wantNext {
				t.Errorf("next = %v, want %v", cur.Next, tt.wantNext)
			}
			if tt.wantRemin != (calendar.Date{}) && cur.Reminded != tt.wantRemin {
				t.Errorf("reminded = %v, want %v", cur.Reminded, tt.wantRemin)
			}
		})
	}
}

func TestDescriptionAndExcerptAreBounded(t *testing.T) {
	long := strings.Repeat("数据库无法启动。", 2000) // 48,000 bytes
	d := Description(long)
	if len(d) > maxDescription+8 || !strings.HasSuffix(d, "…") || !utf8.ValidString(d) || !strings.HasPrefix(long, strings.TrimSuffix(d, "\n…")) {
		t.Errorf("description of %d bytes: %d bytes, suffix %q", len(long), len(d), d[len(d)-8:])
	}
	if short := "It broke."; Description(short) != short {
		t.Errorf("short description changed: %q", Description(short))
	}
	e := Excerpt(long)
	if n := utf8.RuneCountInString(e); n != 201 || !strings.HasSuffix(e, "…") {
		t.Errorf("excerpt has %d characters: %q", n, e)
	}
	if e := Excerpt(strings.Repeat(" ", 5000) + "x"); e != "…" && e != "" {
		t.Errorf("excerpt of blank head = %q", e)
	}
}

// The resolution note written with /resolve is on the timeline as well as
// in the customer's confirmation request.
func TestResolutionNoteOnTheTimeline(t *testing.T) {
	cfg := rulesCfg(t)
	c := opened(t, cfg, "alice@acme.test", 2, thu)
	d := Decide(cfg, c, staffMail(eng1, "/resolve\nReplaced the fuser."), Facts{}, thu.Add(time.Hour))
	for _, a := range d.Actions {
		if r, ok := a.(Record); ok && r.Kind == EvResolved {
			if r.Detail != "Replaced the fuser." {
				t.Errorf("resolved event detail = %q", r.Detail)
			}
			return
		}
	}
	t.Fatal("no resolved event")
}

// excerptBefore is Excerpt as it was written first (Fields, Join, runes):
// the one-pass Excerpt must give the same for every text.
func excerptBefore(s string) string {
	long := len(s) > 4096
	if long {
		s = strings.ToValidUTF8(s[:4096], "")
	}
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		return string(r[:200]) + "…"
	} else if long {
		return s + "…"
	}
	return s
}

func TestExcerptAsFieldsJoined(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	parts := []string{"a", "word", "故障", " ", "  ", "\t", "\r\n", "\u3000", "\u00a0", "\xff", "\xe6\x95", "é", "x\u200by"}
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for n := rng.IntN(400); n > 0; n-- {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		if i%50 == 0 {
			b.WriteString(strings.Repeat("long text ", 500))
		}
		s := b.String()
		if got, want := Excerpt(s), excerptBefore(s); got != want {
			t.Fatalf("Excerpt(%q)\n= %q\nwant %q", s, got, want)
		}
	}
	for _, s := range []string{"", " ", strings.Repeat("x", 200), strings.Repeat("x", 201), strings.Repeat("x ", 100), strings.Repeat("x ", 101), strings.Repeat("x", 199) + " y", strings.Repeat("x", 199) + "  \xff"} {
		if got, want := Excerpt(s), excerptBefore(s); got != want {
			t.Errorf("Excerpt(%q) = %q, want %q", s, got, want)
		}
	}
}
