package config

import (
	"cmp"
	"fmt"
	"net/mail"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"helpdeskd/calendar"
)

// One function per section of the file (SPEC §8, §10, §11). Each declares
// its keys with their defaults, then checks the rules between them.

// defaultSeverities are the figures of SPEC §1.1.
var defaultSeverities = map[int][3]string{ // respond, solve_online, onsite
	1: {"2 working hours", "4 working hours", "24h"},
	2: {"4 working hours", "8 working hours", "3 working days"},
	3: {"8 working hours", "24 working hours", "5 working days"},
	4: {"8 working hours", "48 working hours", "7 working days"},
}

// build reads the whole file, section by section, in an order where each
// section can refer to the ones before it (plans name calendars,
// customers name plans).
func (v *validator) build(root *table) *Config {
	c := &Config{}
	c.Mailbox = v.mailbox(root.sub("mailbox"))
	c.SMTP = v.smtp(root.sub("smtp"))
	c.Database = v.database(root.sub("database"))
	c.HTTP = v.http(root.sub("http"))
	c.Threading = v.threading(root.sub("threading"))
	var broken map[string]bool
	c.Calendars, broken = v.calendars(root.sub("calendars"))
	c.Plans = v.plans(root.sub("plans"), c.Calendars, broken)
	c.Severities = v.severities(root.sub("severities"))
	c.Replies = v.replies(root.sub("replies"), c.Severities)
	c.Escalation = v.escalation(root.sub("escalation"))
	c.Closing = v.closing(root.sub("closing"))
	c.Staff = v.staff(root)
	c.Customers = v.customers(root, c.Plans)
	c.Policy = v.policy(root.sub("policy"), c)
	c.Templates = v.templates(root.sub("templates"))
	c.Security = v.security(root.sub("security"))
	c.Display = v.display(root.sub("display"))
	c.Inspections = v.inspections(root.sub("inspections"))
	root.done()
	return c
}

func (v *validator) mailbox(t *table) Mailbox {
	var m Mailbox
	t.key("address", required("host:port"), hostPort(&m.Address))
	t.key("tls", "implicit", tlsMode(&m.TLS))
	t.key("username", required(""), text(&m.Username))
	m.Password = v.password(t, true)
	t.key("folder", "INBOX", text(&m.Folder))
	t.key("processed_folder", "", text(&m.ProcessedFolder))
	t.key("quarantine_folder", "Quarantine", text(&m.QuarantineFolder))
	t.key("poll_interval", "30s", duration(&m.PollInterval, positive))
	t.key("max_attachment_mb", 25, megabytes(&m.MaxAttachment))
	t.key("insecure_skip_verify", false, boolean(&m.InsecureSkipVerify))
	t.key("answer_backlog", "24h", backlog(&m))
	t.done()
	return m
}

// megabytes reads a size in MiB into bytes.
func megabytes(dst *int64) reader {
	return func(v *validator, key string, val any) {
		n, ok := v.integer(key, val)
		if !ok {
			return
		}
		if n < 0 || n > 1<<20 {
			v.add(key, "must be 0-%d, got %d", 1<<20, n)
			return
		}
		*dst = n << 20
	}
}

// backlog reads [mailbox] answer_backlog: a duration, or "all" (SPEC §11.1).
func backlog(m *Mailbox) reader {
	return fromString(func(v *validator, key, s string) {
		if s == "all" {
			m.AnswerAll, m.AnswerBacklog = true, 0
			return
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			v.add(key, "%q is not a duration (like \"24h\", \"168h\", \"0s\") or \"all\"", s)
			return
		}
		if d < 0 {
			v.add(key, "must not be negative, got %q", s)
			return
		}
		m.AnswerAll, m.AnswerBacklog = false, d
	})
}

func (v *validator) smtp(t *table) SMTP {
	var s SMTP
	t.key("address", required("host:port"), hostPort(&s.Address))
	t.key("tls", "starttls", tlsMode(&s.TLS))
	t.key("username", nil, text(&s.Username))
	// Without a username there is no SMTP AUTH, so no password is read.
	s.Password = v.password(t, s.Username != "")
	t.key("from", required(`like "Support <support@example.com>"`), fromAddr(&s.From))
	t.key("helo", "", text(&s.HELO))
	t.key("insecure_skip_verify", false, boolean(&s.InsecureSkipVerify))
	t.done()
	return s
}

func fromAddr(dst **mail.Address) reader {
	return fromString(func(v *validator, key, s string) {
		a, err := mail.ParseAddress(s)
		if err != nil {
			v.add(key, "%q is not an address: %v", s, err)
			return
		}
		a.Address = strings.ToLower(a.Address)
		*dst = a
	})
}

// password declares password, password_env and password_file of t and
// returns the password. When needed is false (SMTP without a username) a
// configured source is not read and its absence is no problem.
func (v *validator) password(t *table, needed bool) string {
	var p, env, file string
	t.key("password", nil, text(&p))
	t.key("password_env", nil, text(&env))
	t.key("password_file", nil, filePath(&file, nil))
	n := 0
	for _, s := range []string{p, env, file} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		v.add(t.join("password"), "give only one of password, password_env, password_file")
	}
	if !needed {
		if n > 0 {
			v.warn(t.join(firstSet(p, env, file)), "warning: not used: no %s, so no login", t.join("username"))
		}
		return ""
	}
	switch {
	case p != "":
		return p
	case env != "":
		val, ok := os.LookupEnv(env)
		if !ok {
			v.secret(t.join("password_env"), "environment variable %s is not set", env)
		}
		return val
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			v.secret(t.join("password_file"), "%v", err)
		}
		return strings.TrimRight(string(b), "\r\n")
	}
	return ""
}

func firstSet(p, env, file string) string {
	switch {
	case p != "":
		return "password"
	case env != "":
		return "password_env"
	}
	return "password_file"
}

func (v *validator) database(t *table) Database {
	var d Database
	t.key("path", "helpdeskd.db", filePath(&d.Path, &v.relDB))
	t.done()
	return d
}

func (v *validator) http(t *table) HTTP {
	var h HTTP
	t.key("listen", "127.0.0.1:9180", func(v *validator, key string, val any) {
		if s, ok := val.(string); ok && s == "" {
			return // off
		}
		hostPort(&h.Listen)(v, key, val)
	})
	t.done()
	return h
}

func (v *validator) threading(t *table) Threading {
	var th Threading
	t.key("tag", "Case", fromString(func(v *validator, key, s string) {
		th.Tag = s
		for _, ch := range s {
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
				v.add(key, "%q: only letters, digits, - and _ are allowed", s)
				return
			}
		}
		if s == "" {
			v.add(key, "must not be empty")
		}
	}))
	t.done()
	return th
}

// calendars reads [calendars.NAME]. broken names the calendars that are
// defined but wrong, so that a plan using one is not reported again.
func (v *validator) calendars(t *table) (map[string]*calendar.Calendar, map[string]bool) {
	cals := map[string]*calendar.Calendar{"always": calendar.Always()}
	broken := map[string]bool{}
	for _, ct := range t.named() {
		name := ct.name
		if name == "always" {
			v.add(ct.path, "\"always\" is built in and cannot be redefined")
			continue
		}
		if cal := v.calendar(ct, name); cal != nil {
			cals[name] = cal
		} else {
			broken[name] = true
		}
	}
	t.done()
	return cals, broken
}

func (v *validator) calendar(t *table, name string) *calendar.Calendar {
	before := len(v.problems)
	var (
		loc                  *time.Location
		dayNames, hours      []string
		holidays, extraDates []string
	)
	t.key("timezone", "UTC", location(&loc))
	t.key("days", []string{"mon", "tue", "wed", "thu", "fri"}, stringList(&dayNames))
	t.key("hours", required(`at least one span like "09:00-18:00"`), stringList(&hours))
	t.key("holidays", nil, stringList(&holidays))
	t.key("extra_workdays", nil, stringList(&extraDates))
	t.done()
	days := parseEach(v, t.join("days"), dayNames, calendar.ParseWeekday)
	spans := parseEach(v, t.join("hours"), hours, calendar.ParseSpan)
	if t.has("hours") && len(hours) == 0 {
		v.add(t.join("hours"), "at least one span like \"09:00-18:00\" is required")
	}
	hol := parseEach(v, t.join("holidays"), holidays, calendar.ParseDate)
	extra := parseEach(v, t.join("extra_workdays"), extraDates, calendar.ParseDate)
	if len(v.problems) > before {
		return nil
	}
	cal, err := calendar.New(name, loc, days, spans, hol, extra)
	if err != nil {
		v.add(t.path, "%v", err)
		return nil
	}
	return cal
}

// parseEach parses every entry of a list, reporting each bad one against
// key.
func parseEach[T any](v *validator, key string, in []string, parse func(string) (T, error)) []T {
	var out []T
	for _, s := range in {
		x, err := parse(s)
		if err != nil {
			v.add(key, "%v", err)
		}
		out = append(out, x)
	}
	return out
}

func (v *validator) plans(t *table, cals map[string]*calendar.Calendar, broken map[string]bool) map[string]Plan {
	plans := map[string]Plan{}
	if len(t.vals) == 0 {
		v.add("plans", "at least one plan is required")
	}
	for _, pt := range t.named() {
		p := Plan{Name: pt.name}
		pt.key("calendar", "always", fromString(func(v *validator, key, name string) {
			p.Calendar = cals[name]
			if p.Calendar == nil && !broken[name] { // a broken calendar is reported once, where it is defined
				v.add(key, "no calendar named %q", name)
			}
		}))
		pt.key("priority", "normal", oneOf(&p.Priority, Priorities...))
		pt.key("respond_within", nil, duration(&p.RespondWithin, positive))
		pt.done()
		plans[p.Name] = p
	}
	t.done()
	return plans
}

func (v *validator) severities(t *table) map[int]Severity {
	sevs := map[int]Severity{}
	for n := range defaultSeverities {
		if _, given := t.vals[strconv.Itoa(n)]; !given {
			sevs[n] = v.severity(t.sub(strconv.Itoa(n)), n)
		}
	}
	for _, name := range sortedKeys(t.vals) {
		n, err := strconv.Atoi(name)
		if err != nil || n < 1 || n > 9 {
			t.used[name] = true
			v.add(t.join(name), "severity must be a number 1-9")
			continue
		}
		sevs[n] = v.severity(t.subAs(name, "severities."+strconv.Itoa(n)), n)
	}
	t.done()
	return sevs
}

// severity reads [severities.N]; the severities 1-4 have the defaults of
// SPEC §1.1, a new one must give all three deadlines.
func (v *validator) severity(t *table, n int) Severity {
	var s Severity
	var def [3]any
	if d, ok := defaultSeverities[n]; ok {
		def = [3]any{d[0], d[1], d[2]}
	} else {
		for i := range def {
			def[i] = required(`a new severity needs respond, solve_online and onsite`)
		}
	}
	t.key("respond", def[0], deadline(&s.Respond))
	t.key("solve_online", def[1], deadline(&s.SolveOnline))
	t.key("onsite", def[2], deadline(&s.Onsite))
	t.done()
	return s
}

func (v *validator) replies(t *table, sevs map[int]Severity) Replies {
	var r Replies
	t.key("first", "10m", duration(&r.First, positive))
	t.key("second", "30m", duration(&r.Second, positive))
	t.key("every", "1h", duration(&r.Every, positive))
	t.key("full_schedule", []int{1, 2, 3}, func(v *validator, key string, val any) {
		l, ok := val.([]any)
		if di, isInts := val.([]int); isInts {
			r.FullSchedule = slices.Clone(di)
			return
		}
		if !ok {
			v.wrongType(key, "a list of severities", val)
			return
		}
		r.FullSchedule = []int{}
		for _, e := range l {
			n, ok := v.integer(key, e)
			if !ok {
				return
			}
			if _, ok := sevs[int(n)]; !ok {
				v.add(key, "no severity %d", n)
			}
			r.FullSchedule = append(r.FullSchedule, int(n))
		}
	})
	t.key("warning", "15m", duration(&r.Warning, allowZero))
	t.done()
	if r.First > 0 && r.Second > 0 && r.Second <= r.First {
		v.add(t.join("second"), "must be later than replies.first (%s)", r.First)
	}
	return r
}

func (v *validator) escalation(t *table) Escalation {
	var e Escalation
	t.key("chain", []string{"engineer", "customer_service_manager", "service_centre_manager"}, roles(&e.Chain))
	t.key("stuck_after", "30m", duration(&e.StuckAfter, positive))
	t.done()
	if e.Chain != nil && len(e.Chain) == 0 {
		v.add(t.join("chain"), "must name at least one role")
	}
	return e
}

// roles reads a list of roles (SPEC §8).
func roles(dst *[]string) reader {
	return fromStrings(func(v *validator, key string, l []string) {
		for _, r := range l {
			if !slices.Contains(Roles, r) {
				v.add(key, "%q is not a role (%s)", r, strings.Join(Roles, ", "))
			}
		}
		*dst = l
	})
}

func (v *validator) closing(t *table) Closing {
	var c Closing
	t.key("confirm_words", []string{"confirm", "confirmed", "solved", "yes", "确认", "已解决"}, stringList(&c.ConfirmWords))
	t.key("auto_close_after", "168h", duration(&c.AutoCloseAfter, positive))
	t.key("reopen_window", "720h", duration(&c.ReopenWindow, allowZero))
	t.key("review", false, boolean(&c.Review))
	t.done()
	return c
}

func (v *validator) staff(root *table) []Staff {
	var out []Staff
	seen := map[string]bool{}
	for _, t := range root.entries("staff") {
		var s Staff
		t.key("name", required(""), text(&s.Name))
		t.key("email", required(""), emailAddr(&s.Email))
		t.key("roles", required("at least one role"), roles(&s.Roles))
		t.key("regions", nil, stringList(&s.Regions))
		t.done()
		if t.has("roles") && len(s.Roles) == 0 {
			v.add(t.join("roles"), "at least one role is required")
		}
		if s.Email != "" && seen[s.Email] {
			v.add(t.join("email"), "%s is listed twice", s.Email)
		}
		seen[s.Email] = true
		out = append(out, s)
	}
	return out
}

func (v *validator) customers(root *table, plans map[string]Plan) []Customer {
	var out []Customer
	for _, t := range root.entries("customers") {
		var cu Customer
		t.key("company", required(""), text(&cu.Company))
		t.key("domains", nil, domains(&cu.Domains))
		for _, ct := range t.entries("contacts") {
			var c Contact
			ct.key("name", nil, text(&c.Name))
			ct.key("email", required(""), emailAddr(&c.Email))
			ct.key("phone", nil, text(&c.Phone))
			ct.done()
			cu.Contacts = append(cu.Contacts, c)
		}
		t.key("plan", required("the name of a [plans.NAME] table"), fromString(func(v *validator, key, s string) {
			cu.Plan = s
			if _, ok := plans[s]; !ok {
				v.add(key, "no plan named %q", s)
			}
		}))
		t.key("region", nil, text(&cu.Region))
		t.key("language", "zh", oneOf(&cu.Language, "zh", "en"))
		t.key("foreign", false, boolean(&cu.Foreign))
		t.key("update_interval", nil, duration(&cu.UpdateInterval, positive))
		t.key("services", slices.Clone(DefaultServices), services(&cu.Services))
		t.key("inspections", nil, inspections(&cu.Inspections))
		t.done()
		if cu.HasService("training") && !cu.HasService("installation") {
			v.add(t.join("services"), "training requires installation")
		}
		out = append(out, cu)
	}
	return out
}

func domains(dst *[]string) reader {
	return fromStrings(func(v *validator, key string, l []string) {
		for _, d := range l {
			d = strings.ToLower(strings.TrimPrefix(d, "@"))
			if d == "" || strings.ContainsAny(d, "@ ") {
				v.add(key, "%q is not a domain", d)
			}
			*dst = append(*dst, d)
		}
	})
}

// services reads [[customers]] services (SPEC §11.6).
func services(dst *[]string) reader {
	return fromStrings(func(v *validator, key string, l []string) {
		out := []string{}
		for _, s := range l {
			switch {
			case !slices.Contains(Services, s):
				v.add(key, "unknown service %q (want %s)", s, strings.Join(Services, ", "))
			case slices.Contains(out, s):
				v.add(key, "%q is listed twice", s)
			default:
				out = append(out, s)
			}
		}
		*dst = out
	})
}

// inspections reads [[customers]] inspections (SPEC §11.7).
func inspections(dst *[]Inspection) reader {
	return fromStrings(func(v *validator, key string, l []string) {
		seen := map[string]bool{}
		for _, s := range l {
			in, err := ParseInspection(s)
			if err != nil {
				v.add(key, "%v", err)
				continue
			}
			norm := in.String()
			if seen[norm] {
				v.add(key, "%q is listed twice", s)
				continue
			}
			seen[norm] = true
			*dst = append(*dst, in)
		}
	})
}

// ParseInspection parses one inspection schedule entry: "monthly D",
// "quarterly D" (D 1-31), "weekly DAY" (mon..sun) or a date "2027-03-01".
func ParseInspection(s string) (Inspection, error) {
	in := Inspection{Raw: s}
	f := strings.Fields(strings.ToLower(s))
	const want = `want "monthly D", "quarterly D", "weekly DAY" or a date like "2027-03-01"`
	switch {
	case len(f) == 1:
		d, err := calendar.ParseDate(f[0])
		if err != nil {
			return in, fmt.Errorf("%q: %s", s, want)
		}
		in.Every, in.Date = "once", time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	case len(f) == 2 && (f[0] == "monthly" || f[0] == "quarterly"):
		n, err := strconv.Atoi(f[1])
		if err != nil || n < 1 || n > 31 {
			return in, fmt.Errorf("%q: the day of the month must be 1-31", s)
		}
		in.Every, in.Day = f[0], n
	case len(f) == 2 && f[0] == "weekly":
		wd, err := calendar.ParseWeekday(f[1])
		if err != nil {
			return in, fmt.Errorf("%q: %v", s, err)
		}
		in.Every, in.Weekday = "weekly", wd
	default:
		return in, fmt.Errorf("%q: %s", s, want)
	}
	return in, nil
}

// String writes the entry in the form ParseInspection reads.
func (in Inspection) String() string {
	switch in.Every {
	case "monthly", "quarterly":
		return fmt.Sprintf("%s %d", in.Every, in.Day)
	case "weekly":
		return "weekly " + strings.ToLower(in.Weekday.String()[:3])
	}
	return in.Date.Format(time.DateOnly)
}

func (v *validator) policy(t *table, c *Config) Policy {
	var p Policy
	t.key("unknown_senders", "open", oneOf(&p.UnknownSenders, "open", "ignore"))
	t.key("default_severity", 3, func(v *validator, key string, val any) {
		n, ok := v.integer(key, val)
		if !ok {
			return
		}
		p.DefaultSeverity = int(n)
		if _, ok := c.Severities[int(n)]; !ok {
			v.add(key, "no severity %d", n)
		}
	})
	t.key("unknown_region", nil, text(&p.UnknownRegion))
	// auto_reply_limit is "N/WINDOW" (SPEC §11.4). The older form, a
	// number with the window in auto_reply_window (default 1h), is still
	// read.
	var window time.Duration
	t.key("auto_reply_window", nil, duration(&window, positive))
	t.key("auto_reply_limit", "10/1h", autoReplyLimit(&p, t, window))
	t.done()
	return p
}

// autoReplyLimit reads [policy] auto_reply_limit: "N/WINDOW", or the
// older form N with the window in auto_reply_window (window, default 1h).
func autoReplyLimit(p *Policy, t *table, window time.Duration) reader {
	return func(v *validator, key string, val any) {
		if n, isInt := val.(int64); isInt {
			if n < 1 {
				v.add(key, "must be at least 1")
				return
			}
			p.AutoReplyLimit, p.AutoReplyWindow = int(n), cmp.Or(window, time.Hour)
			return
		}
		s, ok := val.(string)
		if !ok {
			v.wrongType(key, `a string like "10/1h"`, val)
			return
		}
		ns, ws, _ := strings.Cut(s, "/")
		n, err := strconv.Atoi(strings.TrimSpace(ns))
		if err != nil || n < 1 || strings.TrimSpace(ws) == "" {
			v.add(key, "%q: want N/WINDOW, like \"10/1h\" (at most N acknowledgements to one sender in WINDOW)", s)
			return
		}
		w, ok := v.parseDuration(key, strings.TrimSpace(ws), positive)
		if !ok {
			return
		}
		p.AutoReplyLimit, p.AutoReplyWindow = n, w
		if t.has("auto_reply_window") {
			if t.has("auto_reply_limit") {
				v.add(t.join("auto_reply_window"), "give the window in auto_reply_limit (%q) only", s)
			} else {
				p.AutoReplyWindow = window // the older form with the limit left out
			}
		}
	}
}

func (v *validator) templates(t *table) Templates {
	var tm Templates
	t.key("dir", "", filePath(&tm.Dir, nil))
	t.key("language", "zh", oneOf(&tm.Language, "zh", "en"))
	t.done()
	if d := tm.Dir; d != "" {
		if st, err := os.Stat(d); err != nil {
			v.add(t.join("dir"), "%v", err)
		} else if !st.IsDir() {
			v.add(t.join("dir"), "%s is not a directory", d)
		}
	}
	return tm
}

func (v *validator) security(t *table) Security {
	var s Security
	t.key("require_authentication", false, boolean(&s.RequireAuthentication))
	t.done()
	return s
}

func (v *validator) display(t *table) Display {
	var d Display
	t.key("timezone", "Local", location(&d.Location))
	t.done()
	return d
}

func (v *validator) inspections(t *table) Inspections {
	var in Inspections
	t.key("report_within", "2 working days", deadline(&in.ReportWithin))
	t.done()
	return in
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

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
