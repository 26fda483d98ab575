package config

import (
	"fmt"
	"net/mail"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"helpdeskd/calendar"
)

// The raw shapes mirror the TOML file one to one (SPEC §10 key names).

type rawConfig struct {
	Mailbox    rawMailbox               `toml:"mailbox"`
	SMTP       rawSMTP                  `toml:"smtp"`
	Database   struct{ Path string }    `toml:"database"`
	HTTP       struct{ Listen *string } `toml:"http"`
	Threading  struct{ Tag string }     `toml:"threading"`
	Calendars  map[string]rawCalendar   `toml:"calendars"`
	Plans      map[string]rawPlan       `toml:"plans"`
	Severities map[string]rawSeverity   `toml:"severities"`
	Replies    rawReplies               `toml:"replies"`
	Escalation rawEscalation            `toml:"escalation"`
	Closing    rawClosing               `toml:"closing"`
	Staff      []rawStaff               `toml:"staff"`
	Customers  []rawCustomer            `toml:"customers"`
	Policy     rawPolicy                `toml:"policy"`
	Templates  rawTemplates             `toml:"templates"`
	Security   rawSecurity              `toml:"security"`
}

type rawMailbox struct {
	Address            string  `toml:"address"`
	TLS                string  `toml:"tls"`
	Username           string  `toml:"username"`
	Password           string  `toml:"password"`
	PasswordEnv        string  `toml:"password_env"`
	PasswordFile       string  `toml:"password_file"`
	Folder             string  `toml:"folder"`
	ProcessedFolder    *string `toml:"processed_folder"`
	QuarantineFolder   *string `toml:"quarantine_folder"`
	PollInterval       string  `toml:"poll_interval"`
	MaxAttachmentMB    *int64  `toml:"max_attachment_mb"`
	InsecureSkipVerify bool    `toml:"insecure_skip_verify"`
}

type rawSMTP struct {
	Address            string `toml:"address"`
	TLS                string `toml:"tls"`
	Username           string `toml:"username"`
	Password           string `toml:"password"`
	PasswordEnv        string `toml:"password_env"`
	PasswordFile       string `toml:"password_file"`
	From               string `toml:"from"`
	HELO               string `toml:"helo"`
	InsecureSkipVerify bool   `toml:"insecure_skip_verify"`
}

type rawCalendar struct {
	Timezone      string   `toml:"timezone"`
	Days          []string `toml:"days"`
	Hours         []string `toml:"hours"`
	Holidays      []string `toml:"holidays"`
	ExtraWorkdays []string `toml:"extra_workdays"`
}

type rawPlan struct {
	Calendar      string `toml:"calendar"`
	Priority      string `toml:"priority"`
	RespondWithin string `toml:"respond_within"`
}

type rawSeverity struct {
	Respond     string `toml:"respond"`
	SolveOnline string `toml:"solve_online"`
	Onsite      string `toml:"onsite"`
}

type rawReplies struct {
	First        string `toml:"first"`
	Second       string `toml:"second"`
	Every        string `toml:"every"`
	FullSchedule *[]int `toml:"full_schedule"`
	Warning      string `toml:"warning"`
}

type rawEscalation struct {
	Chain      []string `toml:"chain"`
	StuckAfter string   `toml:"stuck_after"`
}

type rawClosing struct {
	ConfirmWords   []string `toml:"confirm_words"`
	AutoCloseAfter string   `toml:"auto_close_after"`
	ReopenWindow   string   `toml:"reopen_window"`
	Review         bool     `toml:"review"`
}

type rawStaff struct {
	Name    string   `toml:"name"`
	Email   string   `toml:"email"`
	Roles   []string `toml:"roles"`
	Regions []string `toml:"regions"`
}

type rawContact struct {
	Name  string `toml:"name"`
	Email string `toml:"email"`
	Phone string `toml:"phone"`
}

type rawCustomer struct {
	Company        string       `toml:"company"`
	Domains        []string     `toml:"domains"`
	Contacts       []rawContact `toml:"contacts"`
	Plan           string       `toml:"plan"`
	Region         string       `toml:"region"`
	Language       string       `toml:"language"`
	Foreign        bool         `toml:"foreign"`
	UpdateInterval string       `toml:"update_interval"`
}

type rawPolicy struct {
	UnknownSenders  string `toml:"unknown_senders"`
	DefaultSeverity *int   `toml:"default_severity"`
	UnknownRegion   string `toml:"unknown_region"`
	AutoReplyLimit  *int   `toml:"auto_reply_limit"`
	AutoReplyWindow string `toml:"auto_reply_window"`
}

type rawTemplates struct {
	Dir      string `toml:"dir"`
	Language string `toml:"language"`
}

type rawSecurity struct {
	RequireAuthentication bool `toml:"require_authentication"`
}

// defaultSeverities are the figures of SPEC §1.1.
var defaultSeverities = map[int]rawSeverity{
	1: {"2 working hours", "4 working hours", "24h"},
	2: {"4 working hours", "8 working hours", "3 working days"},
	3: {"8 working hours", "24 working hours", "5 working days"},
	4: {"8 working hours", "48 working hours", "7 working days"},
}

func (v *validator) build(r *rawConfig) *Config {
	c := &Config{}

	// [mailbox]
	m := r.Mailbox
	v.hostPort("mailbox.address", m.Address)
	c.Mailbox = Mailbox{
		Address:            m.Address,
		TLS:                v.tls("mailbox.tls", m.TLS, TLSImplicit),
		Username:           m.Username,
		Password:           v.password("mailbox", m.Password, m.PasswordEnv, m.PasswordFile),
		Folder:             orDefault(m.Folder, "INBOX"),
		ProcessedFolder:    "",
		QuarantineFolder:   "Quarantine",
		PollInterval:       v.duration("mailbox.poll_interval", m.PollInterval, 30*time.Second, false),
		MaxAttachment:      25 << 20,
		InsecureSkipVerify: m.InsecureSkipVerify,
	}
	if m.ProcessedFolder != nil {
		c.Mailbox.ProcessedFolder = *m.ProcessedFolder
	}
	if m.QuarantineFolder != nil {
		c.Mailbox.QuarantineFolder = *m.QuarantineFolder
	}
	if m.MaxAttachmentMB != nil {
		if *m.MaxAttachmentMB < 0 {
			v.add("mailbox.max_attachment_mb", "must not be negative")
		}
		c.Mailbox.MaxAttachment = *m.MaxAttachmentMB << 20
	}
	if m.Username == "" {
		v.add("mailbox.username", "is required")
	}

	// [smtp]
	s := r.SMTP
	v.hostPort("smtp.address", s.Address)
	c.SMTP = SMTP{
		Address:            s.Address,
		TLS:                v.tls("smtp.tls", s.TLS, TLSStartTLS),
		Username:           s.Username,
		Password:           v.password("smtp", s.Password, s.PasswordEnv, s.PasswordFile),
		HELO:               s.HELO,
		InsecureSkipVerify: s.InsecureSkipVerify,
	}
	if s.From == "" {
		v.add("smtp.from", "is required (like \"Support <support@example.com>\")")
	} else if a, err := mail.ParseAddress(s.From); err != nil {
		v.add("smtp.from", "%q is not an address: %v", s.From, err)
	} else {
		a.Address = strings.ToLower(a.Address)
		c.SMTP.From = a
	}

	c.Database.Path = orDefault(r.Database.Path, "helpdeskd.db")
	c.HTTP.Listen = "127.0.0.1:9180"
	if r.HTTP.Listen != nil {
		c.HTTP.Listen = *r.HTTP.Listen
		if c.HTTP.Listen != "" {
			v.hostPort("http.listen", c.HTTP.Listen)
		}
	}

	c.Threading.Tag = orDefault(r.Threading.Tag, "Case")
	for _, ch := range c.Threading.Tag {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			v.add("threading.tag", "%q: only letters, digits, - and _ are allowed", c.Threading.Tag)
			break
		}
	}

	// [calendars.NAME]
	c.Calendars = map[string]*calendar.Calendar{"always": calendar.Always()}
	badCalendars := map[string]bool{}
	for _, name := range sortedKeys(r.Calendars) {
		rc := r.Calendars[name]
		key := "calendars." + name
		if name == "always" {
			v.add(key, "\"always\" is built in and cannot be redefined")
			continue
		}
		if cal := v.calendar(key, name, rc); cal != nil {
			c.Calendars[name] = cal
		} else {
			badCalendars[name] = true
		}
	}

	// [plans.NAME]
	c.Plans = map[string]Plan{}
	if len(r.Plans) == 0 {
		v.add("plans", "at least one plan is required")
	}
	for _, name := range sortedKeys(r.Plans) {
		rp := r.Plans[name]
		key := "plans." + name
		p := Plan{Name: name, Priority: orDefault(rp.Priority, "normal")}
		cal, ok := c.Calendars[orDefault(rp.Calendar, "always")]
		if !ok && !badCalendars[rp.Calendar] { // a broken calendar is reported once, where it is defined
			v.add(key+".calendar", "no calendar named %q", rp.Calendar)
		}
		p.Calendar = cal
		if !slices.Contains(Priorities, p.Priority) {
			v.add(key+".priority", "%q is not one of %s", p.Priority, strings.Join(Priorities, ", "))
		}
		p.RespondWithin = v.duration(key+".respond_within", rp.RespondWithin, 0, false)
		c.Plans[name] = p
	}

	// [severities.N]
	c.Severities = map[int]Severity{}
	for n, def := range defaultSeverities {
		c.Severities[n] = v.severity(fmt.Sprintf("severities.%d", n), def, rawSeverity{})
	}
	for _, k := range sortedKeys(r.Severities) {
		key := "severities." + k
		n, err := strconv.Atoi(k)
		if err != nil || n < 1 || n > 9 {
			v.add(key, "severity must be a number 1-9")
			continue
		}
		def, ok := defaultSeverities[n]
		rs := r.Severities[k]
		if !ok && (rs.Respond == "" || rs.SolveOnline == "" || rs.Onsite == "") {
			v.add(key, "a new severity needs respond, solve_online and onsite")
			continue
		}
		c.Severities[n] = v.severity(key, def, rs)
	}

	// [replies]
	rr := r.Replies
	c.Replies = Replies{
		First:        v.duration("replies.first", rr.First, 10*time.Minute, false),
		Second:       v.duration("replies.second", rr.Second, 30*time.Minute, false),
		Every:        v.duration("replies.every", rr.Every, time.Hour, false),
		FullSchedule: []int{1, 2, 3},
		Warning:      v.duration("replies.warning", rr.Warning, 15*time.Minute, true),
	}
	if rr.FullSchedule != nil {
		c.Replies.FullSchedule = *rr.FullSchedule
		for _, n := range c.Replies.FullSchedule {
			if _, ok := c.Severities[n]; !ok {
				v.add("replies.full_schedule", "no severity %d", n)
			}
		}
	}
	if c.Replies.Second <= c.Replies.First {
		v.add("replies.second", "must be later than replies.first (%s)", c.Replies.First)
	}

	// [escalation]
	c.Escalation = Escalation{
		Chain:      r.Escalation.Chain,
		StuckAfter: v.duration("escalation.stuck_after", r.Escalation.StuckAfter, 30*time.Minute, false),
	}
	if c.Escalation.Chain == nil {
		c.Escalation.Chain = []string{"engineer", "customer_service_manager", "service_centre_manager"}
	}
	if len(c.Escalation.Chain) == 0 {
		v.add("escalation.chain", "must name at least one role")
	}
	for _, role := range c.Escalation.Chain {
		if !slices.Contains(Roles, role) {
			v.add("escalation.chain", "%q is not a role (%s)", role, strings.Join(Roles, ", "))
		}
	}

	// [closing]
	rcl := r.Closing
	c.Closing = Closing{
		ConfirmWords:   rcl.ConfirmWords,
		AutoCloseAfter: v.duration("closing.auto_close_after", rcl.AutoCloseAfter, 168*time.Hour, false),
		ReopenWindow:   v.duration("closing.reopen_window", rcl.ReopenWindow, 720*time.Hour, true),
		Review:         rcl.Review,
	}
	if c.Closing.ConfirmWords == nil {
		c.Closing.ConfirmWords = []string{"confirm", "confirmed", "solved", "yes", "确认", "已解决"}
	}

	// [[staff]]
	seen := map[string]bool{}
	for i, rs := range r.Staff {
		key := fmt.Sprintf("staff.%d", i)
		st := Staff{Name: rs.Name, Email: v.email(key+".email", rs.Email), Roles: rs.Roles, Regions: rs.Regions}
		if st.Name == "" {
			v.add(key+".name", "is required")
		}
		if seen[st.Email] {
			v.add(key+".email", "%s is listed twice", st.Email)
		}
		seen[st.Email] = true
		if len(st.Roles) == 0 {
			v.add(key+".roles", "at least one role is required")
		}
		for _, role := range st.Roles {
			if !slices.Contains(Roles, role) {
				v.add(key+".roles", "%q is not a role (%s)", role, strings.Join(Roles, ", "))
			}
		}
		c.Staff = append(c.Staff, st)
	}

	// [[customers]]
	for i, rc := range r.Customers {
		key := fmt.Sprintf("customers.%d", i)
		cu := Customer{
			Company:  rc.Company,
			Plan:     rc.Plan,
			Region:   rc.Region,
			Language: orDefault(rc.Language, "zh"),
			Foreign:  rc.Foreign,
		}
		if cu.Company == "" {
			v.add(key+".company", "is required")
		}
		for _, d := range rc.Domains {
			d = strings.ToLower(strings.TrimPrefix(d, "@"))
			if d == "" || strings.ContainsAny(d, "@ ") {
				v.add(key+".domains", "%q is not a domain", d)
			}
			cu.Domains = append(cu.Domains, d)
		}
		for j, ct := range rc.Contacts {
			cu.Contacts = append(cu.Contacts, Contact{Name: ct.Name, Phone: ct.Phone,
				Email: v.email(fmt.Sprintf("%s.contacts.%d.email", key, j), ct.Email)})
		}
		if _, ok := c.Plans[cu.Plan]; !ok {
			v.add(key+".plan", "no plan named %q", cu.Plan)
		}
		if cu.Language != "zh" && cu.Language != "en" {
			v.add(key+".language", "%q is not one of zh, en", cu.Language)
		}
		cu.UpdateInterval = v.duration(key+".update_interval", rc.UpdateInterval, 0, false)
		c.Customers = append(c.Customers, cu)
	}

	// [policy]
	rpo := r.Policy
	c.Policy = Policy{
		UnknownSenders:  orDefault(rpo.UnknownSenders, "open"),
		DefaultSeverity: 3,
		UnknownRegion:   rpo.UnknownRegion,
		AutoReplyLimit:  5,
		AutoReplyWindow: v.duration("policy.auto_reply_window", rpo.AutoReplyWindow, time.Hour, false),
	}
	if c.Policy.UnknownSenders != "open" && c.Policy.UnknownSenders != "ignore" {
		v.add("policy.unknown_senders", "%q is not one of open, ignore", c.Policy.UnknownSenders)
	}
	if rpo.DefaultSeverity != nil {
		c.Policy.DefaultSeverity = *rpo.DefaultSeverity
		if _, ok := c.Severities[*rpo.DefaultSeverity]; !ok {
			v.add("policy.default_severity", "no severity %d", *rpo.DefaultSeverity)
		}
	}
	if rpo.AutoReplyLimit != nil {
		c.Policy.AutoReplyLimit = *rpo.AutoReplyLimit
		if *rpo.AutoReplyLimit < 1 {
			v.add("policy.auto_reply_limit", "must be at least 1")
		}
	}
	if c.Policy.UnknownSenders == "open" && len(c.Plans) > 0 {
		if _, ok := c.Plans[unknownPlan(c)]; !ok {
			v.add("policy.unknown_senders", "no plan for unknown senders")
		}
	}

	c.Templates = Templates{Dir: r.Templates.Dir, Language: orDefault(r.Templates.Language, "zh")}
	if d := c.Templates.Dir; d != "" {
		if st, err := os.Stat(d); err != nil {
			v.add("templates.dir", "%v", err)
		} else if !st.IsDir() {
			v.add("templates.dir", "%s is not a directory", d)
		}
	}
	if c.Templates.Language != "zh" && c.Templates.Language != "en" {
		v.add("templates.language", "%q is not one of zh, en", c.Templates.Language)
	}
	c.Security.RequireAuthentication = r.Security.RequireAuthentication
	return c
}

// unknownPlan is the plan a case from an unknown sender gets: "5x8" if it
// exists, else the first plan by name.
func unknownPlan(c *Config) string {
	if _, ok := c.Plans["5x8"]; ok {
		return "5x8"
	}
	names := sortedKeys(c.Plans)
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

// DefaultPlan is the plan for senders matching no customer.
func (c *Config) DefaultPlan() Plan { return c.Plans[unknownPlan(c)] }

func (v *validator) severity(key string, def, rs rawSeverity) Severity {
	parse := func(k, s, d string) calendar.Deadline {
		if s == "" {
			s = d
		}
		dl, err := calendar.ParseDeadline(s)
		if err != nil {
			v.add(key+"."+k, "%v", err)
		}
		return dl
	}
	return Severity{
		Respond:     parse("respond", rs.Respond, def.Respond),
		SolveOnline: parse("solve_online", rs.SolveOnline, def.SolveOnline),
		Onsite:      parse("onsite", rs.Onsite, def.Onsite),
	}
}

func (v *validator) calendar(key, name string, rc rawCalendar) *calendar.Calendar {
	ok := true
	loc := time.UTC
	if rc.Timezone != "" {
		l, err := time.LoadLocation(rc.Timezone)
		if err != nil {
			v.add(key+".timezone", "unknown time zone %q", rc.Timezone)
			ok = false
		} else {
			loc = l
		}
	}
	var days []time.Weekday
	for _, d := range rc.Days {
		wd, err := calendar.ParseWeekday(d)
		if err != nil {
			v.add(key+".days", "%v", err)
			ok = false
		}
		days = append(days, wd)
	}
	if rc.Days == nil {
		days = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	}
	var spans []calendar.Span
	for _, h := range rc.Hours {
		sp, err := calendar.ParseSpan(h)
		if err != nil {
			v.add(key+".hours", "%v", err)
			ok = false
		}
		spans = append(spans, sp)
	}
	if len(rc.Hours) == 0 {
		v.add(key+".hours", "at least one span like \"09:00-18:00\" is required")
		ok = false
	}
	dates := func(k string, in []string) []calendar.Date {
		var out []calendar.Date
		for _, s := range in {
			d, err := calendar.ParseDate(s)
			if err != nil {
				v.add(key+"."+k, "%v", err)
				ok = false
			}
			out = append(out, d)
		}
		return out
	}
	hol := dates("holidays", rc.Holidays)
	extra := dates("extra_workdays", rc.ExtraWorkdays)
	if !ok {
		return nil
	}
	cal, err := calendar.New(name, loc, days, spans, hol, extra)
	if err != nil {
		v.add(key, "%v", err)
		return nil
	}
	return cal
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
