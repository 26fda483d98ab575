package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"time"

	"helpdeskd/cases"
	"helpdeskd/config"
	"helpdeskd/desk"
	"helpdeskd/store"
	"helpdeskd/templates"
)

// loadConfig loads the config for commands other than check. Its error is
// one line (SPEC §10): the first problem, and how many more there are.
func loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	var ps config.Problems
	if errors.As(err, &ps) {
		return nil, firstProblem(ps)
	}
	return cfg, err
}

func firstProblem(ps config.Problems) error {
	if len(ps) == 1 {
		return ps[0]
	}
	return fmt.Errorf("%s (and %d more; run helpdeskd check)", ps[0].Error(), len(ps)-1)
}

func reportSecrets(cfg *config.Config) error {
	var ps config.Problems
	if errors.As(cfg.CheckSecrets(), &ps) {
		return firstProblem(ps)
	}
	return nil
}

// openDesk opens the database and a desk for one-shot commands.
func openDesk(cfgPath string) (*config.Config, *store.DB, *desk.Desk, error) {
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl, err := templates.Load(cfg.Templates.Dir)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("templates: %w", err)
	}
	db, err := store.OpenExisting(context.Background(), cfg.Database.Path)
	if err != nil {
		return nil, nil, nil, err
	}
	return cfg, db, desk.New(cfg, db, tmpl, desk.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}), nil
}

func cmdCaseOpen(args []string, stdin io.Reader, stdout io.Writer) error {
	fs, cfgPath := newFlags("case open")
	company := fs.String("company", "", "company, as in the config's [[customers]]")
	contact := fs.String("contact", "", "contact name")
	phone := fs.String("phone", "", "contact phone")
	email := fs.String("email", "", "contact email")
	severity := fs.Int("severity", 0, "severity 1-4")
	subject := fs.String("subject", "", "subject")
	body := fs.String("body", "", "fault description")
	bodyFile := fs.String("body-file", "", "read the description from a file")
	kind := fs.String("kind", cases.KindFault, "what the case is: fault, installation, training, inspection or consulting")
	date := fs.String("date", "", "planned day of an installation or training visit, YYYY-MM-DD")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("case open: unexpected argument %q", pos[0])
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"company", *company}, {"contact", *contact}, {"email", *email}, {"subject", *subject}} {
		if f.v == "" {
			missing = append(missing, "--"+f.name)
		}
	}
	if *severity == 0 {
		missing = append(missing, "--severity")
	}
	if len(missing) > 0 {
		return usagef("case open: missing %s", strings.Join(missing, ", "))
	}
	if a, err := mail.ParseAddress(*email); err != nil || a.Name != "" {
		return usagef("case open: --email %q is not an email address", *email)
	}
	planned, err := visitFlags(*kind, *date)
	if err != nil {
		return err
	}
	text := *body
	switch {
	case *bodyFile != "":
		b, err := os.ReadFile(*bodyFile)
		if err != nil {
			return err
		}
		text = string(b)
	case text == "":
		if text, err = readStdin(stdin); err != nil {
			return err
		}
	}
	cfg, db, d, err := openDesk(*cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := cases.CheckHotline(cfg, *company, *email); err != nil {
		return err
	}
	in := desk.OpenInput{Company: *company, Contact: *contact, Phone: *phone,
		Email: strings.ToLower(*email), Severity: *severity, Subject: *subject, Description: strings.TrimSpace(text),
		Actor: "hotline", Kind: *kind, PlannedDate: planned}
	n, err := d.OpenCase(context.Background(), in)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, n)
	return nil
}

// readStdin reads text piped in; a terminal gives none.
func readStdin(stdin io.Reader) (string, error) {
	if f, ok := stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return "", nil
		}
	}
	b, err := io.ReadAll(stdin)
	return string(b), err
}

// visitFlags checks case open's --kind and --date (SPEC §11.8): a visit
// (installation, training) needs its planned day, an inspection may have
// one, a fault or consulting case has none.
func visitFlags(kind, date string) (time.Time, error) {
	switch kind {
	case cases.KindFault, cases.KindConsulting:
		if date != "" {
			return time.Time{}, usagef("case open: --date is for --kind installation, training or inspection")
		}
		return time.Time{}, nil
	case cases.KindInstallation, cases.KindTraining:
	case cases.KindInspection:
		if date == "" {
			return time.Time{}, nil
		}
	default:
		return time.Time{}, usagef("case open: --kind %q: want one of %s", kind, strings.Join(cases.Kinds, ", "))
	}
	if date == "" {
		return time.Time{}, usagef("case open: --kind %s needs --date YYYY-MM-DD", kind)
	}
	// The civil date at 00:00 UTC, as cases.Case.PlannedDate is stored.
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return time.Time{}, usagef("case open: --date %q is not a date (YYYY-MM-DD)", date)
	}
	return t, nil
}

// caseJSON is the §10 JSON shape of a case.
type caseJSON struct {
	Number       int64         `json:"number"`
	Subject      string        `json:"subject"`
	Status       string        `json:"status"`
	Kind         string        `json:"kind"`
	Severity     int           `json:"severity"`
	Priority     string        `json:"priority"`
	Company      string        `json:"company"`
	ContactName  string        `json:"contact_name"`
	ContactEmail string        `json:"contact_email"`
	ContactPhone string        `json:"contact_phone"`
	Region       string        `json:"region"`
	Engineer     string        `json:"engineer"`
	OnsiteNeeded bool          `json:"onsite_required"`
	LinkedCase   *int64        `json:"linked_case"`
	OpenedAt     string        `json:"opened_at"`
	PlannedDate  *string       `json:"planned_date"` // YYYY-MM-DD of a visit or inspection
	Deadlines    deadlinesJSON `json:"deadlines"`
	Events       []eventJSON   `json:"events,omitempty"`
}

type deadlinesJSON struct {
	RespondBy     *string `json:"respond_by"`
	SolveOnlineBy *string `json:"solve_online_by"`
	OnsiteBy      *string `json:"onsite_by"`
	ReportDueBy   *string `json:"report_due_by"`
}

type eventJSON struct {
	At     string `json:"at"`
	Kind   string `json:"kind"`
	Actor  string `json:"actor"`
	Detail string `json:"detail"`
}

func timeJSON(t time.Time, loc *time.Location) *string {
	if t.IsZero() {
		return nil
	}
	s := t.In(loc).Format(time.RFC3339)
	return &s
}

func caseLoc(cfg *config.Config, c *cases.Case) *time.Location {
	p := cfg.PlanOrDefault(c.Plan)
	if p.Calendar != nil && p.Calendar.Location != nil {
		return p.Calendar.Location
	}
	return time.UTC
}

func toJSON(cfg *config.Config, c *cases.Case, evs []cases.Event) caseJSON {
	loc := caseLoc(cfg, c)
	j := caseJSON{Number: c.Number, Subject: c.Subject, Status: c.Status, Kind: c.KindOrFault(), Severity: c.Severity, Priority: c.Priority,
		Company: c.Company, ContactName: c.ContactName, ContactEmail: c.ContactEmail, ContactPhone: c.ContactPhone,
		Region: c.Region, Engineer: c.Engineer, OnsiteNeeded: c.OnsiteNeeded, OpenedAt: *timeJSON(c.OpenedAt, loc),
		Deadlines: deadlinesJSON{RespondBy: timeJSON(c.RespondBy, loc), SolveOnlineBy: timeJSON(c.SolveOnlineBy, loc),
			OnsiteBy: timeJSON(c.OnsiteBy, loc), ReportDueBy: timeJSON(c.ReportDueBy, loc)}}
	if c.LinkedCase != 0 {
		j.LinkedCase = &c.LinkedCase
	}
	if !c.PlannedDate.IsZero() {
		d := c.PlannedDate.UTC().Format(time.DateOnly)
		j.PlannedDate = &d
	}
	for _, e := range evs {
		j.Events = append(j.Events, eventJSON{At: e.At.In(loc).Format(time.RFC3339), Kind: e.Kind, Actor: e.Actor, Detail: e.Detail})
	}
	return j
}

func openRead(cfgPath string) (*config.Config, *store.DB, error) {
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return nil, nil, err
	}
	db, err := store.OpenExisting(context.Background(), cfg.Database.Path)
	return cfg, db, err
}

// caseNumber parses a case number argument ("12" or "#12").
func caseNumber(cmd, s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || n <= 0 {
		return 0, usagef("%s: %q is not a case number", cmd, s)
	}
	return n, nil
}

func cmdCaseShow(args []string, stdout io.Writer) error {
	fs, cfgPath := newFlags("case show")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("case show: want exactly one case number")
	}
	n, err := caseNumber("case show", pos[0])
	if err != nil {
		return err
	}
	cfg, db, err := openRead(*cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	var c *cases.Case
	var evs []cases.Event
	err = db.Read(context.Background(), func(t *store.Txn) error {
		if c, err = t.Case(n); err != nil {
			return err
		}
		evs, err = t.Events(n)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no case %d", n)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, toJSON(cfg, c, evs))
	}
	return showText(stdout, c, evs, cfg.Display.Location, now())
}

// showText prints a case for people: its facts, every deadline with the
// time left or how late it is, and the timeline with multi-line details
// indented under their first line.
func showText(w io.Writer, c *cases.Case, evs []cases.Event, loc *time.Location, at time.Time) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Case %d: %s\n", c.Number, c.Subject)
	fmt.Fprintf(&b, "  kind %s, status %s, severity %d, priority %s\n", c.KindOrFault(), c.Status, c.Severity, c.Priority)
	fmt.Fprintf(&b, "  company %s, contact %s\n", orDash(c.Company), strings.TrimSpace(orDash(c.ContactName)+" <"+c.ContactEmail+"> "+c.ContactPhone))
	fmt.Fprintf(&b, "  engineer %s, opened %s (%s ago)\n", orDash(c.Engineer), textTime(c.OpenedAt, loc), human(at.Sub(c.OpenedAt)))
	if c.OnsiteEngineer != "" {
		fmt.Fprintf(&b, "  on-site engineer %s\n", c.OnsiteEngineer)
	}
	if !c.PlannedDate.IsZero() {
		fmt.Fprintf(&b, "  planned for %s\n", c.PlannedDate.UTC().Format(time.DateOnly))
	}
	if c.LinkedCase != 0 {
		fmt.Fprintf(&b, "  follows case %d\n", c.LinkedCase)
	}
	b.WriteString("Deadlines:\n")
	dl := table{indent: "  "}
	for _, d := range cases.CaseDeadlines(c) {
		var state string
		switch {
		case !d.Met.IsZero() && d.Met.After(d.Due):
			state = "met " + textTime(d.Met, loc) + ", !" + human(d.Met.Sub(d.Due)) + " late"
		case !d.Met.IsZero():
			state = "met " + textTime(d.Met, loc) + ", on time"
		case d.Superseded:
			state = "no longer applies: dispatched on site in time"
			if !c.DispatchedAt.IsZero() {
				state = "no longer applies: dispatched on site " + textTime(c.DispatchedAt, loc) + ", in time"
			}
		case d.Missed:
			state = "!missed (on site instead)"
		case d.Pending:
			state = left(d.Due, at)
		case d.Due.Before(at) || c.Status == cases.StatusClosed:
			state = "not met"
		default:
			state = "not due yet"
		}
		dl.add(d.Name, textTime(d.Due, loc), state)
	}
	if c.OnsiteBy.IsZero() {
		what := "not dispatched"
		if c.OnsiteNeeded {
			what = "!needed, not dispatched yet"
		}
		dl.add("on site", "-", what)
	}
	if err := dl.write(&b); err != nil {
		return err
	}
	b.WriteString("Timeline:\n")
	head := table{indent: "  "}
	for _, e := range evs {
		head.add(textTime(e.At, loc), e.Kind, orDash(e.Actor), "")
	}
	var hb strings.Builder
	head.write(&hb)
	heads := strings.Split(strings.TrimSuffix(hb.String(), "\n"), "\n")
	for i, e := range evs {
		prefix := heads[i]
		lines := strings.Split(strings.TrimRight(strings.ReplaceAll(localStamps(e.Detail, loc), "\r\n", "\n"), "\n"), "\n")
		b.WriteString(strings.TrimRight(prefix+lines[0], " ") + "\n")
		pad := strings.Repeat(" ", textWidth(prefix))
		for _, l := range lines[1:] {
			b.WriteString(strings.TrimRight(pad+l, " ") + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
