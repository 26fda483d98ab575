// Package cases owns the case: its state machine, threading (which case a
// message belongs to), routing, deadlines and the reply schedule. It holds
// the business rules of SPEC §1, §3 and §4.
//
// It does no I/O of its own and reads no clock: every decision takes `now`,
// and persistence goes through the small Tx interface that the store
// package implements, so that a case change and the mail it causes are
// committed in one transaction.
package cases

import (
	"time"
)

// Status values of SPEC §10.
const (
	StatusOpen     = "open"
	StatusResolved = "resolved" // waiting for the customer's confirmation
	StatusClosed   = "closed"
)

// Event kinds of SPEC §10 (and a few more).
const (
	EvOpened          = "opened"
	EvMessageIn       = "message_in"
	EvReplyOut        = "reply_out"
	EvNote            = "note"
	EvEscalated       = "escalated"
	EvSeverityChanged = "severity_changed"
	EvPriorityChanged = "priority_changed"
	EvAssigned        = "assigned"
	EvResolved        = "resolved"
	EvApproved        = "approved"
	EvConfirmed       = "confirmed"
	EvReopened        = "reopened"
	EvClosed          = "closed"
	EvOnsiteDispatch  = "onsite_dispatched"
	EvOnsiteArrived   = "onsite_arrived"
	EvPart            = "part"
	EvDeliveryFailed  = "delivery_failed"
	EvNotified        = "notified"
	EvAutoMessage     = "auto_message"
	EvCommandError    = "command_error"
	// SPEC §11.9.
	EvImported            = "imported"
	EvAutoReplySuppressed = "auto_reply_suppressed"
	EvInspectionDue       = "inspection_due"
	EvKindChanged         = "kind_changed"
	EvDone                = "done"
	EvDeliveryDelayed     = "delivery_delayed"
	EvReminded            = "reminded"
)

// Case kinds (SPEC §11.8).
const (
	KindFault        = "fault"
	KindInspection   = "inspection"
	KindInstallation = "installation"
	KindTraining     = "training"
	KindConsulting   = "consulting"
)

// Kinds lists every case kind.
var Kinds = []string{KindFault, KindInspection, KindInstallation, KindTraining, KindConsulting}

// Case is one support case as stored.
type Case struct {
	Number       int64
	Subject      string
	Status       string
	Severity     int
	Priority     string
	Company      string
	ContactName  string
	ContactPhone string
	ContactEmail string
	Region       string
	Language     string
	Foreign      bool
	Plan         string
	Engineer     string
	Description  string
	OpenedAt     time.Time
	AssignedAt   time.Time // zero if unassigned

	RespondBy     time.Time
	SolveOnlineBy time.Time
	OnsiteBy      time.Time // zero until dispatched

	RespondedAt       time.Time // first public staff reply
	ResolvedAt        time.Time
	ClosedAt          time.Time
	OnsiteNeeded      bool
	OnsiteEngineer    string
	EscalationLevel   int       // how many respond-slip steps taken
	LastReplyAt       time.Time // last reply to the customer (auto or staff)
	RepliesSent       int       // scheduled status replies counted (first=1, second=2, ...)
	LinkedCase        int64
	Approved          bool
	LastCustomerMsgID string
	ThreadIDs         []string // Message-IDs for References, oldest first (capped)

	NextRespondCheck time.Time // when the respond escalation is checked next
	StuckEscalated   bool
	OnsiteEscalated  bool
	OnsiteArrivedAt  time.Time
	ConfirmAskedAt   time.Time // when the customer was asked to confirm
	ClockStart       time.Time // when the deadlines were last started (opening or reopen)

	Kind        string    // one of Kinds; "" reads as fault
	PlannedDate time.Time // visit or inspection day (00:00 UTC of the civil date); zero if none
	ReportDueBy time.Time // inspection report due
	Late        bool      // an inspection opened after its day (the daemon was down)
	Billable    bool      // on-site dispatched without an on-site service, billed
	RemindedAt  time.Time // when the assignee was reminded of the visit or inspection
	// BouncedAt is when mail to the contact last failed permanently;
	// scheduled replies stop until the contact writes again (zero).
	BouncedAt time.Time
	// DispatchedAt is when an engineer was last dispatched on site; the
	// on-site deadline counts from it.
	DispatchedAt time.Time
	// ResolutionNote is the text written with /resolve, quoted in the
	// confirmation request.
	ResolutionNote string
}

// Event is one line of a case's timeline.
type Event struct {
	ID     int64
	Case   int64
	At     time.Time
	Kind   string
	Actor  string
	Detail string
}

// Outgoing is one mail queued in the outbox.
type Outgoing struct {
	ID          int64
	Case        int64
	Kind        string // template name, or "relay"
	From        string // "" = the configured support address
	To          []string
	Cc          []string
	Subject     string
	Text        string
	MessageID   string // without <>
	InReplyTo   string
	References  []string
	Headers     map[string]string // Auto-Submitted, X-Auto-Response-Suppress, ...
	Attachments []int64           // attachment ids to include
}

// Timer is a scheduled check on a case, stored so that it survives restarts.
type Timer struct {
	Case int64
	Kind string
	Due  time.Time
}
