package cases

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"helpdeskd/config"
)

// OpenInput describes a new case: from a mail, the hotline (`case open`),
// an inspection schedule or a follow-up of a closed case.
type OpenInput struct {
	Company, Contact, Phone, Email string
	Subject, Description           string
	Severity                       int
	MessageID                      string   // customer's message, "" for the hotline
	References                     []string // of the customer's message
	Actor                          string
	Via                            string // "mail" (default), "hotline", "schedule"
	LinkedCase                     int64

	Kind        string    // one of Kinds; "" = fault
	PlannedDate time.Time // visit or inspection day (00:00 UTC of the date)
	// Late marks an inspection opened after its time (the daemon was down).
	Late bool
	// Archived is old backlog mail of the first sync (SPEC §11.1): the
	// case is history, created closed, at the message's date At.
	Archived bool
	At       time.Time
}

// SuppressionToldMark ends the detail of an auto_reply_suppressed event
// whose suppression staff were told of, so that they are told once per
// sender and hour (SPEC §11.4), counted from the last telling.
const SuppressionToldMark = "; staff told"

// SuppressedAckPrefix starts the detail of the auto_reply_suppressed
// event of an acknowledgement to rcpt, so that the store can find the
// suppressions of one sender.
func SuppressedAckPrefix(rcpt string) string { return "acknowledgement to " + rcpt + " " }

// ErrTrainingWithoutInstallation refuses a training visit for a customer
// that did not buy installation (SPEC §11.6).
var ErrTrainingWithoutInstallation = errors.New("training is only sold with installation, and this customer has no installation service")

// ErrUnknownCustomer refuses a case for a sender or company that is no
// configured customer when [policy] unknown_senders = "ignore".
var ErrUnknownCustomer = errors.New("unknown customer")

// CheckOpen reports why a case cannot be opened as asked, or nil.
func CheckOpen(cfg *config.Config, in OpenInput, cu *config.Customer) error {
	if cu == nil && cfg.Policy.UnknownSenders == "ignore" {
		return fmt.Errorf("%w %q (and [policy] unknown_senders = \"ignore\")", ErrUnknownCustomer, orStr(in.Company, in.Email))
	}
	if _, ok := cfg.Severities[in.Severity]; !ok {
		return fmt.Errorf("severity %d is not configured", in.Severity)
	}
	switch in.Kind {
	case "", KindFault, KindInspection, KindInstallation, KindConsulting:
	case KindTraining:
		if cu == nil || !cu.HasService("installation") {
			return ErrTrainingWithoutInstallation
		}
	default:
		return fmt.Errorf("kind %q is not one of %s", in.Kind, strings.Join(Kinds, ", "))
	}
	return nil
}

// CheckHotline refuses a hotline case (SPEC §1.2, `case open`) for a
// company that is not configured, or whose contact address belongs to
// another customer, instead of opening it on the default plan (issue 9).
func CheckHotline(cfg *config.Config, company, email string) error {
	cu := cfg.CustomerByCompany(company)
	if cu == nil {
		var names []string
		for _, c := range cfg.Customers {
			names = append(names, c.Company)
		}
		if len(names) == 0 {
			return fmt.Errorf("no customer %q: the config has no [[customers]]", company)
		}
		return fmt.Errorf("no customer %q in the config (customers: %s)", company, strings.Join(names, ", "))
	}
	if other, _ := cfg.CustomerFor(email); other != nil && other != cu {
		return fmt.Errorf("%s is a contact of %s, not of %s", email, other.Company, cu.Company)
	}
	return nil
}

// Open is the step that opens a case (SPEC §1.2, §11.1, §11.7, §11.8): the
// new case (Number 0 until stored) and what to do. cu is the customer the
// input matched (nil for an unknown sender).
func Open(cfg *config.Config, in OpenInput, cu *config.Customer, f Facts, now time.Time) Decision {
	at := now
	if in.Archived && !in.At.IsZero() {
		at = in.At
	}
	plan := cfg.DefaultPlan()
	c := &Case{
		Subject: orStr(in.Subject, "(no subject)"), Status: StatusOpen, Severity: in.Severity,
		ContactName: in.Contact, ContactPhone: in.Phone, ContactEmail: strings.ToLower(in.Email),
		Language: cfg.Templates.Language, Description: Description(in.Description), OpenedAt: at,
		Region: cfg.Policy.UnknownRegion, LastCustomerMsgID: in.MessageID, LinkedCase: in.LinkedCase,
		Kind: orStr(in.Kind, KindFault), PlannedDate: in.PlannedDate, Late: in.Late,
	}
	if cu != nil {
		c.Company, c.Region, c.Language, c.Foreign = cu.Company, cu.Region, cu.Language, cu.Foreign
		if c.Foreign {
			c.Language = "en"
		}
		if p, ok := cfg.Plans[cu.Plan]; ok {
			plan = p
		}
	} else {
		c.Company = in.Company
		if c.Company == "" {
			_, c.Company, _ = strings.Cut(c.ContactEmail, "@")
		}
	}
	c.Plan, c.Priority = plan.Name, plan.Priority
	for _, r := range in.References {
		c.ThreadIDs = AppendThread(c.ThreadIDs, r)
	}
	c.ThreadIDs = AppendThread(c.ThreadIDs, in.MessageID)
	load := f.Load
	if c.Kind == KindInspection {
		// The region's first engineer: the one the schedule reminded
		// the working day before (Inspections), however loaded.
		load = nil
	}
	c.Engineer = Route(cfg, c.Region, load)
	d := &decider{cfg: cfg, c: c, f: f, now: now, dirty: true}
	via := orStr(in.Via, "mail")
	detail := fmt.Sprintf("via %s: %s (severity %d, priority %s, plan %s, kind %s)", via, c.Subject, c.Severity, c.Priority, c.Plan, c.Kind)
	if c.LinkedCase != 0 {
		detail += fmt.Sprintf(", follows case %d", c.LinkedCase)
	}

	if in.Archived {
		// History: opened and closed at once, nothing sent, no clock.
		// The opening and its mail are of the mail's date; the import
		// is now.
		c.Status, c.ResolvedAt, c.ClosedAt = StatusClosed, at, at
		d.recordAt(at, EvOpened, in.Actor, detail)
		d.recordAt(at, EvMessageIn, in.Actor, "new: "+Excerpt(in.Description))
		d.record(EvImported, "", "archived on the first sync: mail of "+at.UTC().Format(time.RFC3339)+"; nothing sent")
		return Decision{Case: c, Actions: d.acts, Changed: true}
	}

	restartClocks(cfg, c, now)
	if c.Kind != KindFault {
		c.SolveOnlineBy = time.Time{}
	}
	if c.Kind == KindConsulting {
		c.RespondBy = time.Time{}
	}
	d.record(EvOpened, in.Actor, detail)
	if via == "mail" {
		d.record(EvMessageIn, in.Actor, "new: "+Excerpt(in.Description))
	}
	if c.Engineer != "" {
		d.record(EvAssigned, "", c.Engineer)
	}

	if c.Kind == KindInspection {
		// A scheduled inspection (SPEC §11.7): the engineer is told at
		// opening; the report is what the customer gets.
		late := ""
		if c.Late {
			late = " (late: the daemon was not running at its time)"
		}
		d.record(EvInspectionDue, "", "inspection of "+c.PlannedDate.Format(time.DateOnly)+late)
		d.staff("staff_notice", Msg{Reason: ReasonInspectionOpen, Date: c.PlannedDate, Deadline: c.ReportDueBy}, []string{c.Engineer})
		if c.Engineer == "" {
			d.staff("notify_new", Msg{}, roleAddrs(cfg, "customer_service_manager"))
		}
		return Decision{Case: c, Actions: d.acts, Changed: true}
	}

	// The acknowledgement is the first reply of the schedule (SPEC §1.3),
	// limited per sender against loops (SPEC §11.4). A suppressed one is
	// replaced by the first scheduled status reply, which is never
	// limited.
	if c.ContactEmail != "" {
		if lim := cfg.Policy.AutoReplyLimit; lim > 0 && f.AcksToSender >= lim {
			detail := SuppressedAckPrefix(c.ContactEmail) + fmt.Sprintf("not sent: %d in %s (limit %d)",
				f.AcksToSender, cfg.Policy.AutoReplyWindow, lim)
			if !f.SuppressionTold {
				detail += SuppressionToldMark
			}
			d.record(EvAutoReplySuppressed, "", detail)
			if !f.SuppressionTold {
				d.staff("staff_notice", Msg{Reason: ReasonSuppressed, Who: c.ContactEmail, Level: lim, Duration: cfg.Policy.AutoReplyWindow},
					roleAddrs(cfg, "specialist", "customer_service_manager"))
			}
		} else {
			m := Msg{Date: c.PlannedDate}
			if c.Kind == KindFault && FullSchedule(cfg, c) {
				m.Duration = cfg.Replies.Second // "a status update follows in about …"
			}
			d.do(ToCustomer{Template: "ack", Auto: AutoReplied, Msg: m, Ack: true})
			c.LastReplyAt = now
			c.RepliesSent = 1
		}
	}
	d.staff("notify_new", Msg{}, roleAddrs(cfg, "specialist", "customer_service_manager", "quality"), c.Engineer)
	if c.Kind == KindConsulting {
		// Out of scope from the start: the consulting team takes it.
		d.staff("notify_new", Msg{Reason: ReasonConsulting}, roleAddrs(cfg, "consulting"))
	}
	if c.Engineer != "" {
		d.staff("notify_assigned", Msg{Date: c.PlannedDate}, []string{c.Engineer})
	}
	return Decision{Case: c, Actions: d.acts, Changed: true}
}

// ArchivedMail is old backlog mail of the first sync that threads into a
// case (SPEC §11.1): history only, nothing is sent and no clock moves.
type ArchivedMail struct {
	From string
	At   time.Time // the message's INTERNALDATE
	Text string
}

func (ArchivedMail) trigger() {}

// archived records history on a case; a closed case's reopen window then
// counts from its last message.
func (d *decider) archived(m ArchivedMail) {
	d.recordAt(m.At, EvMessageIn, m.From, "archived: "+Excerpt(m.Text))
	if d.c.Status == StatusClosed && m.At.After(d.c.ClosedAt) {
		d.c.ClosedAt = m.At
		d.changed()
	}
}

// Archive reports whether a message found on the first sync is history
// (SPEC §11.1): older, by INTERNALDATE, than the first sync minus
// answer_backlog. firstSync is zero for later syncs: nothing is archived
// then (a late delivery is always answered).
func Archive(cfg *config.Config, firstSync, internalDate time.Time) bool {
	if firstSync.IsZero() || internalDate.IsZero() || cfg.Mailbox.AnswerAll {
		return false
	}
	return internalDate.Before(firstSync.Add(-cfg.Mailbox.AnswerBacklog))
}

// SuppressionNoticeEvery is how often staff are told of suppressed
// acknowledgements to one sender (SPEC §11.4).
const SuppressionNoticeEvery = time.Hour

// Liaison is the foreign-liaison contact copied on a foreign customer's
// mail and named as their contact (SPEC §1.3); false if none applies.
func Liaison(cfg *config.Config, c *Case) (config.Staff, bool) {
	if !c.Foreign {
		return config.Staff{}, false
	}
	for _, s := range cfg.StaffWithRole("foreign_liaison") {
		return s, true
	}
	return config.Staff{}, false
}

// NewMail decides whether a mail that threads into no case opens one
// (SPEC §1.2, §2): automatic mail never does, and with [policy]
// unknown_senders = "ignore" a sender who is neither a customer nor
// staff is kept without a case. why says what was done instead.
func NewMail(cfg *config.Config, auto string, cu *config.Customer, fromStaff bool) (open bool, why string) {
	switch {
	case auto != "":
		return false, auto
	case cu == nil && !fromStaff && cfg.Policy.UnknownSenders == "ignore":
		return false, "unknown sender ignored"
	}
	return true, ""
}

// Sender is who wrote a message on a case (SPEC §3).
type Sender int

// Senders.
const (
	FromCustomer   Sender = iota // the case's contact or anyone of its company
	FromStaff                    // a configured staff address
	FromThirdParty               // anyone else: kept, never obeyed
)

// SenderOf classifies the sender of a message on case c.
func SenderOf(cfg *config.Config, c *Case, addr string) Sender {
	if _, ok := cfg.StaffByEmail(addr); ok {
		return FromStaff
	}
	if strings.EqualFold(addr, c.ContactEmail) {
		return FromCustomer
	}
	if cu, _ := cfg.CustomerFor(addr); cu != nil && strings.EqualFold(cu.Company, c.Company) {
		return FromCustomer
	}
	return FromThirdParty
}
