package cases

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"helpdeskd/config"
)

// This file is the decision step: every rule of SPEC §1, §4 and §11 that
// says what happens to a case is here, as pure functions from the case as
// it is, one event and now to the case as it must become and a list of
// actions (plain data). The desk carries the actions out in one
// transaction; it decides nothing.

// Trigger is something that happens to a case: one of CustomerMail,
// StaffMail, ThirdPartyMail, AutoMail, TimerFired, DeliveryFailed,
// Console.
type Trigger interface{ trigger() }

// CustomerMail is a message from the case's customer (SPEC §1.5).
type CustomerMail struct {
	From, Name string   // sender address and display name
	MessageID  string   // without <>
	References []string // of the message, for a follow-up case
	Subject    string   // without the case token
	Text       string   // what the customer wrote, quoted history removed
	Body       string   // the whole readable body, for a follow-up's description
	Match      Match    // how it threaded
}

// StaffMail is a message from a staff member on the case (SPEC §4).
type StaffMail struct {
	Staff     config.Staff
	MessageID string
	// References of the incoming mail; command-error replies thread under it.
	References []string
	Text       string  // new text, quoted history removed
	Direct     bool    // the customer is in To or Cc: already sent, record only
	Attachment []int64 // stored attachment ids, relayed with a public reply
	// Unauthenticated is set when authentication is required and the
	// receiving server did not vouch for the sender (SPEC §4).
	Unauthenticated bool
}

// ThirdPartyMail is a message threaded by token from someone who is
// neither the case's customer nor staff (SPEC §3).
type ThirdPartyMail struct {
	From  string
	Match Match
	Text  string
}

// AutoMail is automatic mail threaded into the case (SPEC §2): a silent
// event that never changes the case.
type AutoMail struct {
	From, Reason, Subject string
	Match                 Match
}

// TimerFired is a due timer of the case (Timers).
type TimerFired struct{ Kind string }

// DeliveryFailed is mail of ours that could not be delivered: a permanent
// SMTP failure of the outbox, or a bounce that came back (SPEC §7, issue 11).
type DeliveryFailed struct {
	Kind       string // template of the mail that failed ("ack", "status", "relay", ...); "" if unknown
	Rcpt       string // the address that failed
	Status     string // enhanced status (RFC 3463), e.g. "5.1.1"
	Diagnostic string // the server's words
	Delayed    bool   // only delayed (a DSN with Action: delayed): a note, not a failure
	Bounce     bool   // learned from a bounce, not from our own SMTP session
}

// Console is staff commands given on the command line (`helpdeskd case
// onsite|part|note`) or by a staff member without a mail (SPEC §11.9).
type Console struct {
	Staff config.Staff // zero for the console operator (the service centre)
	Text  string       // command lines
}

func (CustomerMail) trigger()   {}
func (StaffMail) trigger()      {}
func (ThirdPartyMail) trigger() {}
func (AutoMail) trigger()       {}
func (TimerFired) trigger()     {}
func (DeliveryFailed) trigger() {}
func (Console) trigger()        {}

// Facts are what a decision needs to know beyond the case; the desk reads
// them (indexed queries) before deciding.
type Facts struct {
	// LastStaffReply is the latest public staff reply on the case, quoted
	// in status replies and confirmation requests.
	LastStaffReply string
	// AcksToSender counts acknowledgements sent to the contact within
	// [policy] auto_reply_limit's window (SPEC §11.4).
	AcksToSender int
	// SuppressionTold is set when staff were told of a suppressed
	// acknowledgement for this sender within the last hour.
	SuppressionTold bool
	// Load is the open cases per engineer, for routing a new case.
	Load map[string]int
}

// Action is one thing the desk must do: Record, ToCustomer, ToStaff,
// Relay, CommandReply or OpenFollowUp.
type Action interface{ action() }

// Record adds an event to the case's timeline. At is when it happened:
// zero means now, the time of the step; history (archived backlog mail,
// SPEC §11.1) carries the mail's own date.
type Record struct {
	Kind, Actor, Detail string
	At                  time.Time
}

// Msg is what a template needs beyond the case itself. Reason is a code
// (Reason* constants) that templates put in the reader's language.
type Msg struct {
	Reason   string
	Text     string
	Reply    string // latest public staff reply
	Deadline time.Time
	Duration time.Duration
	Nth      int
	Level    int
	Review   bool
	Who      string // an address or a name the reason is about
	Sender   config.Staff
	Errors   []string
	Date     time.Time // a planned visit or inspection day
}

// Automatic-mail classes for ToCustomer and ToStaff (SPEC §7, RFC 3834 §5).
const (
	AutoReplied  = "auto-replied"
	AutoGenerate = "auto-generated"
)

// ToCustomer sends the case's contact a mail from template Template.
type ToCustomer struct {
	Template string
	Auto     string // AutoReplied, AutoGenerate, or "" for mail written by people
	Msg      Msg
	Ack      bool    // the acknowledgement, counted by the auto-reply limit
	Attach   []int64 // attachments to include
}

// ToStaff sends each address (deduplicated, skipping Skip) a mail from
// template Template, and records a "notified" event for each.
type ToStaff struct {
	Template string
	To       []string
	Skip     []string
	Msg      Msg
}

// CommandReply answers a staff member's bad commands (SPEC §4).
type CommandReply struct {
	To         string
	Errors     []string
	InReplyTo  string
	References []string
}

// OpenFollowUp opens a new case that links to this one (SPEC §1.5: a
// customer mail after the reopen window).
type OpenFollowUp struct{ In OpenInput }

func (Record) action()       {}
func (ToCustomer) action()   {}
func (ToStaff) action()      {}
func (CommandReply) action() {}
func (OpenFollowUp) action() {}

// Reason codes for Msg.Reason; templates turn them into words.
const (
	ReasonRespond         = "respond"           // no staff response by respond_by
	ReasonStuck           = "stuck"             // engineer stuck after assignment
	ReasonSolveOnsite     = "solve_onsite"      // not solved online: dispatch please
	ReasonSolveNoOnsite   = "solve_no_onsite"   // not solved online, no on-site service
	ReasonOnsite          = "onsite"            // not on site in time
	ReasonReport          = "report"            // inspection report late
	ReasonCustomerWrote   = "customer_wrote"    // the customer added information
	ReasonUnauthenticated = "unauthenticated"   // staff mail not vouched for
	ReasonDeliveryFailed  = "delivery_failed"   // our mail could not be delivered
	ReasonDispatched      = "dispatched"        // you are dispatched on site
	ReasonWarnRespond     = "warn_respond"      // respond_by is near
	ReasonWarnSolve       = "warn_solve"        // solve_online_by is near
	ReasonWarnReport      = "warn_report"       // report due soon
	ReasonWarnOnsite      = "warn_onsite"       // onsite_by is near
	ReasonSuppressed      = "ack_suppressed"    // acknowledgement not sent: limit
	ReasonReopened        = "reopened_customer" // the customer answered without confirming
	ReasonReopenedWindow  = "reopened_window"   // the customer wrote within the reopen window
	ReasonVisitReminder   = "visit_reminder"    // a visit or inspection is due tomorrow
	ReasonInspectionOpen  = "inspection_open"   // an inspection case opened today
	ReasonConsulting      = "consulting"        // handed to the consulting team
	ReasonAutoClosed      = "auto_closed"       // closed: no answer to the confirmation request
)

// Decision is the result of a step: the case as it must become (a copy;
// the input is not changed) and what to do.
type Decision struct {
	Case    *Case
	Actions []Action
	// Changed reports whether Case differs from the input and must be
	// saved.
	Changed bool
}

// decider holds one step's working state.
type decider struct {
	cfg   *config.Config
	c     *Case
	f     Facts
	now   time.Time
	acts  []Action
	dirty bool
	// staffReply is set when a staff member's text of this event goes to
	// the customer: it is the reply of a status change the event makes.
	staffReply bool
}

func (d *decider) do(a ...Action) { d.acts = append(d.acts, a...) }

func (d *decider) record(kind, actor, detail string) {
	d.do(Record{Kind: kind, Actor: actor, Detail: detail})
}

// recordAt records an event of the past: what happened at the date of
// archived mail, not at the step that stores it.
func (d *decider) recordAt(at time.Time, kind, actor, detail string) {
	d.do(Record{Kind: kind, Actor: actor, Detail: detail, At: at})
}

func (d *decider) changed() { d.dirty = true }

func (d *decider) customer(tmpl, auto string, m Msg) {
	if d.c.ContactEmail == "" {
		return
	}
	d.do(ToCustomer{Template: tmpl, Auto: auto, Msg: m})
	d.c.LastReplyAt = d.now
	d.changed()
}

func (d *decider) staff(tmpl string, m Msg, to []string, skip ...string) {
	if len(to) == 0 {
		return
	}
	d.do(ToStaff{Template: tmpl, To: to, Skip: skip, Msg: m})
}

// Decide is the step for an event on an existing case.
func Decide(cfg *config.Config, c *Case, ev Trigger, f Facts, now time.Time) Decision {
	work := *c
	work.ThreadIDs = slices.Clone(c.ThreadIDs)
	d := &decider{cfg: cfg, c: &work, f: f, now: now}
	switch ev := ev.(type) {
	case CustomerMail:
		d.customerMail(ev)
	case StaffMail:
		d.staffMail(ev)
	case Console:
		d.console(ev)
	case ThirdPartyMail:
		d.record(EvMessageIn, ev.From, fmt.Sprintf("third party (%s): %s", ev.Match, Excerpt(ev.Text)))
	case AutoMail:
		// Automatic mail is a silent event and never changes the case (SPEC §2).
		d.record(EvAutoMessage, ev.From, fmt.Sprintf("%s (%s): %s", ev.Reason, ev.Match, ev.Subject))
	case TimerFired:
		d.timer(ev.Kind)
	case DeliveryFailed:
		d.deliveryFailed(ev)
	case ArchivedMail:
		d.archived(ev)
	}
	return Decision{Case: d.c, Actions: d.acts, Changed: d.dirty}
}

// Excerpt shortens a text to one line of at most 200 characters, for
// event details: its words joined by single spaces (strings.Fields), cut
// after 200 characters and marked "…" when cut.
func Excerpt(s string) string {
	// 200 characters are at most 800 bytes of UTF-8, plus white space
	// that collapses: look at a bounded head only, so a long body costs
	// no more than a short one; and stop at the 201st character.
	long := len(s) > 4096
	if long {
		s = strings.ToValidUTF8(s[:4096], "")
	}
	var b strings.Builder
	n, space := 0, false // characters written; a space is due before the next word
	// cut is the excerpt when a 201st character comes (b holds 200). It
	// is made of runes, so an invalid byte reads as U+FFFD, as it does in
	// string([]rune(s)).
	cut := func() string { return string([]rune(b.String())) + "…" }
	for i, r := range s {
		if unicode.IsSpace(r) {
			space = n > 0
			continue
		}
		if n == excerptRunes {
			return cut()
		}
		if space {
			b.WriteByte(' ')
			if n, space = n+1, false; n == excerptRunes {
				return cut()
			}
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		b.WriteString(s[i : i+size])
		n++
	}
	if long {
		return b.String() + "…"
	}
	return b.String()
}

const excerptRunes = 200

// maxDescription bounds the fault description kept on a case row and
// shown in staff notices; the whole text stays in the stored message
// (issue 10: each received byte is stored once).
const maxDescription = 4096

// Description is a body as a case keeps it: at most maxDescription
// bytes, cut at a character boundary and marked when cut.
func Description(body string) string {
	if len(body) <= maxDescription {
		return body
	}
	cut := maxDescription
	for cut > 0 && !utf8.RuneStart(body[cut]) {
		cut--
	}
	return strings.TrimSpace(body[:cut]) + "\n…"
}

// roleAddrs is every address of the given roles.
func roleAddrs(cfg *config.Config, roles ...string) []string {
	var out []string
	for _, r := range roles {
		for _, s := range cfg.StaffWithRole(r) {
			out = append(out, s.Email)
		}
	}
	return out
}

// holders maps an escalation-chain role to the people to tell: the
// engineer role is the case's own engineer, never every engineer.
func holders(cfg *config.Config, c *Case, role string) []string {
	if role == "engineer" {
		if c.Engineer != "" {
			return []string{c.Engineer}
		}
		return nil
	}
	return roleAddrs(cfg, role)
}

// caseStaff is everyone on a case's staff side: its engineer, the on-site
// engineer and the customer service managers.
func caseStaff(cfg *config.Config, c *Case) []string {
	return append([]string{c.Engineer, c.OnsiteEngineer}, roleAddrs(cfg, "customer_service_manager")...)
}

// customerMail handles a message from the case's customer (SPEC §1.5).
func (d *decider) customerMail(m CustomerMail) {
	c := d.c
	if c.Status == StatusClosed && !InReopenWindow(d.cfg, c, d.now) {
		// After the reopen window: a new case that links to the old one.
		// The message stays on the old case's record too.
		d.record(EvMessageIn, m.From, "after the reopen window: opens a new case")
		d.do(OpenFollowUp{In: OpenInput{Subject: m.Subject, Description: m.Body, Email: m.From, Contact: m.Name,
			Severity: c.Severity, MessageID: m.MessageID, References: m.References, Actor: m.From,
			LinkedCase: c.Number, Via: "mail"}})
		return
	}
	if m.MessageID != "" {
		c.LastCustomerMsgID = m.MessageID
		c.ThreadIDs = AppendThread(c.ThreadIDs, m.MessageID)
	}
	if !c.BouncedAt.IsZero() {
		// Mail from the address again: it works, scheduled replies
		// resume one interval on (not at once, beside the mail it wrote).
		c.BouncedAt, c.LastReplyAt = time.Time{}, d.now
		if c.RepliesSent == 0 {
			c.RepliesSent = 1 // the acknowledgement's window passed
		}
	}
	d.changed()
	d.record(EvMessageIn, m.From, fmt.Sprintf("(%s) %s", m.Match, Excerpt(m.Text)))
	switch c.Status {
	case StatusResolved:
		if !c.ConfirmAskedAt.IsZero() && IsConfirmation(m.Text, d.cfg.Closing.ConfirmWords) {
			c.Status, c.ClosedAt = StatusClosed, d.now
			d.record(EvConfirmed, m.From, Excerpt(m.Text))
			d.record(EvClosed, "", "confirmed by the customer")
			d.staff("confirmed_notice", Msg{}, roleAddrs(d.cfg, "customer_service_manager"))
			return
		}
		d.reopen(m.From, ReasonReopened, "the customer answered without confirming")
	case StatusClosed:
		d.reopen(m.From, ReasonReopenedWindow, "the customer wrote within the reopen window")
	default:
		if cmds, _ := ParseBody(m.Text); len(cmds) > 0 {
			// Commands are for staff only (SPEC §4): recorded, not obeyed.
			var lines []string
			for _, cmd := range cmds {
				lines = append(lines, cmd.Line)
			}
			d.record(EvNote, m.From, "commands from a non-staff sender ignored: "+strings.Join(lines, "; "))
		}
		// New information on an open case: the engineer sees it, or the
		// consulting team for a case handed to them.
		d.staff("staff_notice", Msg{Reason: ReasonCustomerWrote, Text: m.Text}, handlers(d.cfg, c))
	}
}

// reopen opens a resolved or closed case again and restarts its clocks
// from now (SPEC §1.5). The customer gets a status reply (a status change)
// and the engineer is told.
func (d *decider) reopen(actor, reason, why string) {
	d.record(EvReopened, actor, why)
	d.reopenCase()
	d.staff("reopened_notice", Msg{Reason: reason}, handlers(d.cfg, d.c))
}

// handlers are who works a case: its engineer, or the consulting team for
// a case handed to them (SPEC §1 scope note).
func handlers(cfg *config.Config, c *Case) []string {
	if c.KindOrFault() == KindConsulting {
		return roleAddrs(cfg, "consulting")
	}
	if c.Engineer != "" {
		return []string{c.Engineer}
	}
	return nil
}

// reopenCase sets a resolved or closed case open, restarts its clocks and
// tells the customer (a status change, SPEC §1.3).
func (d *decider) reopenCase() {
	c := d.c
	c.Status, c.ResolvedAt, c.ClosedAt, c.ConfirmAskedAt, c.Approved = StatusOpen, time.Time{}, time.Time{}, time.Time{}, false
	restartClocks(d.cfg, c, d.now)
	d.changed()
	d.statusReply("")
}

// restartClocks starts a case's deadlines and escalations again at now.
func restartClocks(cfg *config.Config, c *Case, now time.Time) {
	c.ClockStart = now
	c.RespondBy, c.SolveOnlineBy = Deadlines(cfg, cfg.PlanOrDefault(c.Plan), c.Severity, now)
	if c.Kind == KindInspection {
		c.RespondBy, c.SolveOnlineBy = time.Time{}, time.Time{}
		c.ReportDueBy = cfg.Inspections.ReportWithin.After(cfg.PlanOrDefault(c.Plan).Calendar, now)
		c.OnsiteEscalated = false // the new report's slip escalates again
	}
	dropKindDeadlines(c)
	c.RespondedAt, c.NextRespondCheck, c.EscalationLevel = time.Time{}, time.Time{}, 0
	c.StuckEscalated, c.OnsiteNeeded = false, false
	if c.Engineer != "" {
		c.AssignedAt = now
	}
}

// dropKindDeadlines clears the deadlines a case's kind does not have: a
// visit is no fault to solve online, a consulting case has no SLA clock
// (SPEC §11.8, scope note of §1).
func dropKindDeadlines(c *Case) {
	switch c.KindOrFault() {
	case KindConsulting:
		c.RespondBy, c.SolveOnlineBy = time.Time{}, time.Time{}
	case KindInstallation, KindTraining:
		c.SolveOnlineBy = time.Time{}
	}
}

// statusReply sends the customer the next status reply of the schedule,
// with the latest staff reply if given.
func (d *decider) statusReply(reply string) {
	if d.staffReply || d.c.ContactEmail == "" {
		// The staff member's reply counts as this reply (SPEC §1.3), or
		// there is no one to reply to.
		return
	}
	nth := d.c.RepliesSent + 1
	d.customer("status", AutoGenerate, Msg{Nth: nth, Reply: reply})
	d.c.RepliesSent = nth
}

// staffMail handles a staff message on a case (SPEC §4): commands, a
// /note, or a public reply relayed to the customer.
func (d *decider) staffMail(m StaffMail) {
	c := d.c
	if m.Unauthenticated {
		d.record(EvNote, m.Staff.Email, "unauthenticated staff mail kept as a note: "+Excerpt(m.Text))
		d.staff("staff_notice", Msg{Reason: ReasonUnauthenticated, Who: m.Staff.Email, Text: m.Text},
			append([]string{c.Engineer}, roleAddrs(d.cfg, "customer_service_manager")...))
		return
	}
	cmds, rest := ParseBody(m.Text)
	if len(cmds) > 0 && signatureOnly(rest) {
		// Commands and the writer's signature: nothing to relay.
		rest = ""
	}
	if len(cmds) == 0 && rest == "" {
		d.record(EvMessageIn, m.Staff.Email, "empty staff mail")
		return
	}
	d.staffReply = rest != "" && !resolving(cmds) && !approving(cmds)
	if len(cmds) > 0 {
		ok := d.commands(m.Staff, cmds, rest, func(errs []string) {
			d.do(CommandReply{To: m.Staff.Email, Errors: errs, InReplyTo: m.MessageID,
				References: AppendThread(slices.Clone(m.References), m.MessageID)})
		})
		if !ok {
			return
		}
		if resolving(cmds) {
			// Text written with /resolve is the resolution note of the
			// confirmation request: one mail, not a relay and a request.
			return
		}
		if approving(cmds) {
			// The reviewer's remark stays on the case; the customer
			// gets the confirmation request only.
			if rest != "" {
				d.record(EvNote, m.Staff.Email, "review: "+rest)
			}
			return
		}
	}
	if rest != "" {
		d.publicReply(m, rest)
	}
}

// approving reports whether cmds approve a resolution (SPEC §1.5).
func approving(cmds []Command) bool {
	return slices.ContainsFunc(cmds, func(c Command) bool { return c.Name == "approve" })
}

// signatureOnly reports whether text is nothing but a signature block:
// it starts with the signature separator line "-- " (RFC 3676 §4.3).
func signatureOnly(text string) bool {
	first, _, _ := strings.Cut(text, "\n")
	return strings.TrimRight(first, " \r") == "--"
}

// resolving reports whether cmds resolve the case.
func resolving(cmds []Command) bool {
	return slices.ContainsFunc(cmds, func(c Command) bool { return c.Name == "resolve" })
}

// console handles commands given on the command line (SPEC §11.9).
func (d *decider) console(m Console) {
	cmds, rest := ParseBody(m.Text)
	if len(cmds) == 0 {
		d.do(CommandReply{Errors: []string{"no command given"}})
		return
	}
	d.commands(m.Staff, cmds, rest, func(errs []string) { d.do(CommandReply{Errors: errs}) })
}

// commands checks and applies a staff member's commands: all of them, or
// none when any is bad (then bad is called with the problems and a
// command_error event recorded). text is the rest of the mail, the
// resolution note of a /resolve.
func (d *decider) commands(actor config.Staff, cmds []Command, text string, bad func([]string)) bool {
	work := *d.c
	work.ThreadIDs = slices.Clone(d.c.ThreadIDs)
	effects, errs := Apply(d.cfg, &work, actor, cmds)
	if len(errs) > 0 {
		d.record(EvCommandError, actor.Email, strings.Join(errs, "; "))
		bad(errs)
		return false
	}
	*d.c = work
	d.changed()
	for _, e := range effects {
		d.effect(actor, e, text)
	}
	return true
}

// effect records what one valid command did and acts on it.
func (d *decider) effect(actor config.Staff, e Effect, text string) {
	c, now := d.c, d.now
	detail := e.Detail
	if e.Kind == EvResolved && text != "" {
		detail = text // the resolution note, on the timeline as the customer reads it
	}
	d.record(e.Kind, actor.Email, detail)
	switch e.Kind {
	case EvSeverityChanged:
		// Deadlines follow the new severity, counted from when the clocks
		// started (the opening, or the last reopen); the on-site deadline
		// from the dispatch.
		if c.Kind != KindInspection {
			c.RespondBy, c.SolveOnlineBy = Deadlines(d.cfg, d.cfg.PlanOrDefault(c.Plan), c.Severity, c.ClockStart)
			dropKindDeadlines(c)
		}
		c.NextRespondCheck = time.Time{}
		if c.EscalationLevel > 0 && !c.RespondBy.After(now) {
			// Already escalated for the slip: the next step is one
			// respond interval of the new severity on, not at once.
			c.NextRespondCheck = respondAfter(d.cfg, c, now)
		}
		if !c.OnsiteBy.IsZero() && c.OnsiteArrivedAt.IsZero() && !c.DispatchedAt.IsZero() {
			c.OnsiteBy = OnsiteDeadlineFor(d.cfg, c, c.DispatchedAt)
			if c.Kind == KindInstallation || c.Kind == KindTraining {
				c.OnsiteBy = visitDeadline(d.cfg, c)
			}
		}
	case EvAssigned:
		c.AssignedAt, c.StuckEscalated = now, false
		d.staff("notify_assigned", Msg{}, []string{c.Engineer})
	case EvResolved:
		c.ResolvedAt = now
		d.staff("resolved_notice", Msg{Review: d.cfg.Closing.Review, Text: text}, roleAddrs(d.cfg, "service_centre_manager"))
		// This resolution's note, or none: a note of an earlier
		// resolution (before a reopen) is not quoted again.
		c.ResolutionNote = text
		if !d.cfg.Closing.Review {
			d.askConfirmation()
		}
	case EvApproved:
		d.askConfirmation()
	case EvOnsiteDispatch:
		c.DispatchedAt = now
		c.OnsiteBy, c.OnsiteArrivedAt = OnsiteDeadlineFor(d.cfg, c, now), time.Time{}
		if c.Kind != KindInspection {
			// An inspection's flag is its report slip, escalated once.
			c.OnsiteEscalated = false
		}
		if c.Kind == KindInstallation || c.Kind == KindTraining {
			c.OnsiteBy = visitDeadline(d.cfg, c)
		}
		d.staff("staff_notice", Msg{Reason: ReasonDispatched, Deadline: c.OnsiteBy}, []string{c.OnsiteEngineer})
	case EvOnsiteArrived:
		c.OnsiteArrivedAt = now
	case EvReopened:
		d.reopenCase()
	case EvClosed:
		// A status change: the customer is told (SPEC §1.3). A case closed
		// by staff counts as resolved when it was not resolved before.
		c.ClosedAt = now
		if c.ResolvedAt.IsZero() {
			c.ResolvedAt = now
		}
		d.statusReply("")
	case EvNote:
		d.staff("note", Msg{Sender: actor, Text: e.Detail}, caseStaff(d.cfg, c), actor.Email)
	case EvKindChanged:
		d.kindChanged(actor)
	case EvDone:
		c.Status, c.ResolvedAt, c.ClosedAt = StatusClosed, now, now
		d.record(EvClosed, actor.Email, "visit done")
		d.statusReply("")
	}
}

// askConfirmation sends the last reply: the customer is asked to confirm
// (SPEC §1.3 "last", §1.5). The resolution note written with /resolve is
// its text; else the latest public staff reply.
func (d *decider) askConfirmation() {
	d.c.ConfirmAskedAt = d.now
	reply := d.c.ResolutionNote
	if reply == "" {
		reply = d.f.LastStaffReply
	}
	d.customer("confirm_request", AutoGenerate, Msg{Reply: reply})
}

// publicReply relays a staff member's text to the customer from the
// support address — or, when the staff member wrote to the customer
// directly with support in copy, records it without relaying it again.
// Either way it is the staff response (SPEC §1.4) and counts as the
// current window's reply (SPEC §1.3).
func (d *decider) publicReply(m StaffMail, text string) {
	c := d.c
	if m.Direct {
		c.ThreadIDs = AppendThread(c.ThreadIDs, m.MessageID)
	} else {
		tmpl := "relay"
		if c.Kind == KindInspection && len(m.Attachment) > 0 {
			tmpl = "inspection_report"
		}
		d.do(ToCustomer{Template: tmpl, Msg: Msg{Sender: m.Staff, Text: text}, Attach: m.Attachment})
	}
	d.record(EvReplyOut, m.Staff.Email, text)
	if c.RespondedAt.IsZero() {
		c.RespondedAt = d.now
	}
	if c.Kind == KindInspection && len(m.Attachment) > 0 && c.ResolvedAt.IsZero() {
		// The inspection report is in: the inspection is done.
		c.ResolvedAt = d.now
		d.record(EvResolved, m.Staff.Email, "inspection report sent to the customer")
	}
	c.LastReplyAt = d.now
	c.RepliesSent++
	d.changed()
}

// AppendThread adds a Message-ID to a case's References list, keeping the
// first (the thread root) and the latest ones.
func AppendThread(ids []string, id string) []string {
	const maxThreadIDs = 20
	if id == "" {
		return ids
	}
	ids = append(ids, id)
	if len(ids) > maxThreadIDs {
		ids = append(ids[:1], ids[len(ids)-maxThreadIDs+1:]...)
	}
	return ids
}

// deliveryFailed records mail of ours that could not be delivered and
// tells the engineer and the customer service manager (SPEC §7). A failed
// notice to staff is not answered by another notice, so failures cannot
// loop; a bounce never changes the case otherwise.
func (d *decider) deliveryFailed(f DeliveryFailed) {
	c := d.c
	detail := strings.TrimSpace(fmt.Sprintf("%s to %s: %s %s", orStr(f.Kind, "mail"), f.Rcpt, f.Status, f.Diagnostic))
	if f.Bounce {
		detail += " (bounce)"
	}
	if f.Delayed {
		d.record(EvDeliveryDelayed, "", detail)
		return
	}
	d.record(EvDeliveryFailed, "", detail)
	if f.Kind == "staff_notice" {
		return
	}
	if c.ContactEmail != "" && strings.EqualFold(f.Rcpt, c.ContactEmail) && !strings.HasPrefix(f.Status, "4") {
		// Scheduled replies stop until the contact writes again; staff
		// reach the customer another way (the hotline).
		c.BouncedAt = d.now
		d.changed()
	}
	d.staff("staff_notice", Msg{Reason: ReasonDeliveryFailed, Who: f.Rcpt, Text: detail},
		append([]string{c.Engineer}, roleAddrs(d.cfg, "customer_service_manager")...))
}

func orStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
