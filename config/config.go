// Package config reads and validates the helpdeskd TOML file.
//
// It owns the file format of SPEC §8 and §10: the raw TOML shapes, the
// defaults of §1, and the validated, typed Config the rest of the daemon
// uses. It does not open connections or files other than the config file,
// the password files it names and the template directory check; logins
// are tested by `helpdeskd check` in cmd.
package config

import (
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"helpdeskd/calendar"
)

// Priorities in ascending order (SPEC §10).
var Priorities = []string{"low", "normal", "high", "urgent", "critical"}

// Roles a staff member may have (SPEC §8).
var Roles = []string{"specialist", "engineer", "implementation_engineer",
	"customer_service_manager", "implementation_manager",
	"service_centre_manager", "quality", "foreign_liaison", "consulting"}

// Config is a validated configuration.
type Config struct {
	Path       string
	Mailbox    Mailbox
	SMTP       SMTP
	Database   Database
	HTTP       HTTP
	Threading  Threading
	Calendars  map[string]*calendar.Calendar
	Plans      map[string]Plan
	Severities map[int]Severity
	Replies    Replies
	Escalation Escalation
	Closing    Closing
	Staff      []Staff
	Customers  []Customer
	Policy     Policy
	Templates  Templates
	Security   Security
	Display    Display
	// Inspections holds the [inspections] settings (SPEC §11.7).
	Inspections Inspections

	// secretProblems are passwords that could not be read (an unset
	// environment variable, a missing file). They matter only when the
	// daemon connects, so `check --offline` passes without them; see
	// CheckSecrets.
	secretProblems Problems
	// warnings are findings that do not stop the daemon; see Warnings.
	warnings Problems
	lines    map[string]int
}

// Line returns the line of a key in the file (0 if unknown), so that
// problems found later (templates, logins) can name it too.
func (c *Config) Line(key string) int { return c.lines[key] }

// CheckSecrets reports passwords that could not be read. serve and the
// online check call it; offline commands do not need the passwords.
func (c *Config) CheckSecrets() error {
	if len(c.secretProblems) == 0 {
		return nil
	}
	return c.secretProblems
}

// Warnings lists what `helpdeskd check` reports about a valid file that
// probably does not do what its author meant (a customer no mail can
// match, a region no engineer serves, no staff), and notes such as where
// a relative database path leads. Each names FILE:LINE: key like a
// Problem; Msg starts with "warning: " or "note: ".
func (c *Config) Warnings() Problems { return c.warnings }

// TLSMode says how a mail server connection is protected.
type TLSMode string

// TLS modes of [mailbox] tls and [smtp] tls.
const (
	TLSImplicit TLSMode = "implicit"
	TLSStartTLS TLSMode = "starttls"
	TLSNone     TLSMode = "none"
)

// Mailbox is the IMAP mailbox helpdeskd watches.
type Mailbox struct {
	Address            string
	TLS                TLSMode
	Username           string
	Password           string
	Folder             string
	ProcessedFolder    string // "" = flag only
	QuarantineFolder   string
	PollInterval       time.Duration
	MaxAttachment      int64 // bytes kept per attachment
	InsecureSkipVerify bool
	// AnswerBacklog is how old (by INTERNALDATE, before the first sync)
	// mail found on the first sync may be and still be answered; older
	// mail is archived (SPEC §11.1). Default 24h. AnswerAll ("all")
	// answers every message.
	AnswerBacklog time.Duration
	AnswerAll     bool
}

// SMTP is the server replies are sent through.
type SMTP struct {
	Address            string
	TLS                TLSMode
	Username           string // "" = no authentication
	Password           string
	From               *mail.Address
	HELO               string
	InsecureSkipVerify bool
}

// Database names the SQLite file.
type Database struct{ Path string }

// SpoolDir is where large mail is kept while it is handled (spooled
// intake, relayed attachments): beside the database, on the disk meant
// for mail rather than in a tmpfs /tmp, and owned by the one daemon that
// holds the database's lock. "" when there is no database path.
func (d Database) SpoolDir() string {
	if d.Path == "" {
		return ""
	}
	return d.Path + ".spool"
}

// HTTP is the health and metrics listener; Listen "" disables it.
type HTTP struct{ Listen string }

// Threading holds the subject token tag.
type Threading struct{ Tag string }

// Plan is a support plan.
type Plan struct {
	Name          string
	Calendar      *calendar.Calendar
	Priority      string
	RespondWithin time.Duration // 0 = no cap
}

// Severity holds the deadlines of one fault level (SPEC §1.1).
type Severity struct {
	Respond     calendar.Deadline
	SolveOnline calendar.Deadline
	Onsite      calendar.Deadline
}

// Replies is the reply schedule (SPEC §1.3).
type Replies struct {
	First, Second, Every time.Duration
	FullSchedule         []int
	Warning              time.Duration // warn the assignee this long before a deadline
}

// Escalation is the escalation chain (SPEC §1.4).
type Escalation struct {
	Chain      []string
	StuckAfter time.Duration
}

// Closing is the resolution policy (SPEC §1.5).
type Closing struct {
	ConfirmWords   []string
	AutoCloseAfter time.Duration
	ReopenWindow   time.Duration
	Review         bool // the service centre manager approves before the customer is asked
}

// Staff is a staff member.
type Staff struct {
	Name    string
	Email   string // lowercased
	Roles   []string
	Regions []string
}

// HasRole reports whether s has role r.
func (s Staff) HasRole(r string) bool { return slices.Contains(s.Roles, r) }

// Contact is a person at a customer.
type Contact struct{ Name, Email, Phone string }

// Customer is a company with a support plan.
type Customer struct {
	Company        string
	Domains        []string
	Contacts       []Contact
	Plan           string
	Region         string
	Language       string // zh | en
	Foreign        bool
	UpdateInterval time.Duration // 0 = [replies] every
	// Services are the services the customer bought (SPEC §11.6), out of
	// Services; default hotline and email.
	Services []string
	// Inspections is the periodic inspection schedule (SPEC §11.7).
	Inspections []Inspection
}

// HasService reports whether the customer bought service s.
func (cu *Customer) HasService(s string) bool { return slices.Contains(cu.Services, s) }

// Onsite reports whether the customer bought on-site maintenance, and
// which: "onsite_7x24" or "onsite_5x8" ("" if none). 7x24 wins if both.
func (cu *Customer) Onsite() string {
	switch {
	case cu.HasService("onsite_7x24"):
		return "onsite_7x24"
	case cu.HasService("onsite_5x8"):
		return "onsite_5x8"
	}
	return ""
}

// Services a customer can buy (SPEC §11.6).
var Services = []string{"hotline", "email", "onsite_7x24", "onsite_5x8", "installation", "training", "inspection"}

// DefaultServices are a customer's services when none are configured.
var DefaultServices = []string{"hotline", "email"}

// Inspection is one entry of a customer's inspection schedule (SPEC
// §11.7): "monthly D", "quarterly D" (day D of Jan, Apr, Jul, Oct),
// "weekly DAY" or an ISO date "2027-03-01".
type Inspection struct {
	Raw     string       // as written, for messages
	Every   string       // "monthly", "quarterly", "weekly" or "once"
	Day     int          // day of month for monthly and quarterly
	Weekday time.Weekday // for weekly
	Date    time.Time    // for once: that day at 00:00 UTC (a civil date)
}

// Inspections holds the [inspections] table.
type Inspections struct {
	// ReportWithin is when the inspection report is due after the case
	// opens; default "2 working days".
	ReportWithin calendar.Deadline
}

// Display holds how times are shown to people (SPEC §11.5).
type Display struct {
	// Location is [display] timezone; default the system's zone
	// (time.Local).
	Location *time.Location
}

// Policy holds intake policy.
type Policy struct {
	UnknownSenders  string // open | ignore
	DefaultSeverity int
	UnknownRegion   string
	AutoReplyLimit  int // automatic replies per sender per AutoReplyWindow
	AutoReplyWindow time.Duration
}

// Templates names the override directory ("" = built-in only).
type Templates struct {
	Dir      string
	Language string // default language for unknown senders
}

// Security holds sender authentication policy.
type Security struct{ RequireAuthentication bool }

// StaffByEmail returns the staff member with that address.
func (c *Config) StaffByEmail(addr string) (Staff, bool) {
	addr = strings.ToLower(addr)
	for _, s := range c.Staff {
		if s.Email == addr {
			return s, true
		}
	}
	return Staff{}, false
}

// StaffWithRole lists the staff members with role r, in config order.
func (c *Config) StaffWithRole(r string) []Staff {
	var out []Staff
	for _, s := range c.Staff {
		if s.HasRole(r) {
			out = append(out, s)
		}
	}
	return out
}

// CustomerFor finds the customer of an address: a contact address first,
// then the domain. It returns the contact when the address is a contact.
func (c *Config) CustomerFor(addr string) (*Customer, *Contact) {
	addr = strings.ToLower(addr)
	for i := range c.Customers {
		cu := &c.Customers[i]
		for j := range cu.Contacts {
			if cu.Contacts[j].Email == addr {
				return cu, &cu.Contacts[j]
			}
		}
	}
	_, dom, _ := strings.Cut(addr, "@")
	for i := range c.Customers {
		if slices.Contains(c.Customers[i].Domains, dom) {
			return &c.Customers[i], nil
		}
	}
	return nil, nil
}

// CustomerByCompany finds a customer by company name (case-insensitive).
func (c *Config) CustomerByCompany(name string) *Customer {
	for i := range c.Customers {
		if strings.EqualFold(c.Customers[i].Company, name) {
			return &c.Customers[i]
		}
	}
	return nil
}

// Problem is one config error with its place in the file.
type Problem struct {
	File string
	Line int // 0 = unknown
	Key  string
	Msg  string
}

func (p Problem) Error() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Key, p.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", p.File, p.Key, p.Msg)
}

// Problems is every problem found in a file.
type Problems []Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Error()
	}
	return strings.Join(s, "\n")
}

// Load reads and validates the file at path. On a validation failure the
// error is a Problems listing every problem found. Relative paths in the
// file are relative to its directory.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse validates config text; name is used in problem reports, and its
// directory is the one relative paths in the file are resolved against.
func Parse(name string, data []byte) (*Config, error) {
	cfg, v := parse(name, data)
	if len(v.problems) > 0 {
		return nil, v.problems
	}
	return cfg, nil
}

// parse reads the file; the validator it returns holds the problems and
// the declared defaults.
func parse(name string, data []byte) (*Config, *validator) {
	dir, err := filepath.Abs(filepath.Dir(name))
	if err != nil {
		dir = filepath.Dir(name)
	}
	v := &validator{file: name, dir: dir, defaults: map[string]any{}}
	var top map[string]any
	if _, err := toml.Decode(string(data), &top); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			v.problems = Problems{{File: name, Line: pe.Position.Line, Key: keyOr(pe.LastKey, "toml"), Msg: pe.Message}}
		} else {
			v.problems = Problems{{File: name, Key: "toml", Msg: err.Error()}}
		}
		return nil, v
	}
	v.lines = indexLines(string(data))
	cfg := v.build(&table{v: v, vals: top, used: map[string]bool{}})
	v.crossChecks(cfg)
	sort.SliceStable(v.problems, func(i, j int) bool { return v.problems[i].Line < v.problems[j].Line })
	sort.SliceStable(v.warnings, func(i, j int) bool { return v.warnings[i].Line < v.warnings[j].Line })
	cfg.Path = name
	cfg.secretProblems = v.secrets
	cfg.warnings = v.warnings
	cfg.lines = v.lines
	return cfg, v
}

func keyOr(k, def string) string {
	if k == "" {
		return def
	}
	return k
}

type validator struct {
	file     string
	dir      string // of the file, absolute
	lines    map[string]int
	problems Problems
	secrets  Problems
	warnings Problems
	defaults map[string]any // declared defaults by key pattern ("customers.*.language")
	relDB    bool           // [database] path was relative (or the default)
}

func (v *validator) add(key, format string, args ...any) {
	v.problems = append(v.problems, v.problem(key, format, args...))
}

func (v *validator) secret(key, format string, args ...any) {
	v.secrets = append(v.secrets, v.problem(key, format, args...))
}

func (v *validator) warn(key, format string, args ...any) {
	v.warnings = append(v.warnings, v.problem(key, format, args...))
}

func (v *validator) problem(key, format string, args ...any) Problem {
	return Problem{File: v.file, Line: v.line(key), Key: key, Msg: fmt.Sprintf(format, args...)}
}

// declare records the default of a key for TestExampleShowsDefaults.
func (v *validator) declare(pattern string, def any) {
	if _, ok := v.defaults[pattern]; !ok {
		v.defaults[pattern] = def
	}
}

// line finds the line of key, or of its nearest enclosing table.
func (v *validator) line(key string) int {
	for k := key; k != ""; {
		if l, ok := v.lines[k]; ok {
			return l
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
}

// PlanOrDefault returns the named plan, or the plan for unknown senders if
// there is no such plan (e.g. removed from the config since a case opened).
func (c *Config) PlanOrDefault(name string) Plan {
	if p, ok := c.Plans[name]; ok {
		return p
	}
	return c.DefaultPlan()
}
