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
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"helpdeskd/cases"
	"helpdeskd/config"
	"helpdeskd/daemon"
	"helpdeskd/desk"
	"helpdeskd/mailout"
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

func cmdServe(args []string, stderr io.Writer) error {
	fs, cfgPath := newFlags("serve")
	debug := fs.Bool("debug", false, "debug logging")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if err := reportSecrets(cfg); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		// A second signal exits at once.
		<-ctx.Done()
		stop()
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
		<-c
		log.Warn("second signal, exiting now")
		os.Exit(1)
	}()
	return daemon.Run(ctx, cfg, daemon.Options{Logger: log})
}

func cmdCheck(args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("check")
	offline := fs.Bool("offline", false, "skip the IMAP and SMTP logins")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	var ps config.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			fmt.Fprintln(stdout, p.Error())
		}
		return fmt.Errorf("%d problem(s) in %s", len(ps), *cfgPath)
	}
	if err != nil {
		return err
	}
	for _, w := range cfg.Warnings() { // they do not fail the check
		fmt.Fprintln(stdout, w.Error())
	}
	if _, err := templates.Load(cfg.Templates.Dir); err != nil {
		for _, l := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stdout, "%s:%d: templates.dir: %s\n", *cfgPath, cfg.Line("templates.dir"), l)
		}
		return fmt.Errorf("templates of %s are broken", *cfgPath)
	}
	if !*offline {
		var ps config.Problems
		if errors.As(cfg.CheckSecrets(), &ps) {
			for _, p := range ps {
				fmt.Fprintln(stdout, p.Error())
			}
			return fmt.Errorf("%d problem(s) in %s", len(ps), *cfgPath)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var errs []error
		if err := daemon.NewFetcher(cfg, nil).Check(); err != nil {
			fmt.Fprintf(stdout, "%s: mailbox: %v\n", *cfgPath, err)
			errs = append(errs, err)
		}
		if err := checkSMTP(ctx, cfg); err != nil {
			fmt.Fprintf(stdout, "%s: smtp: %v\n", *cfgPath, err)
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return fmt.Errorf("server check failed: %w", errors.Join(errs...))
		}
	}
	fmt.Fprintf(stdout, "%s: ok\n", *cfgPath)
	return nil
}

func checkSMTP(ctx context.Context, cfg *config.Config) error {
	srv, err := mailout.ParseServer(cfg.SMTP.Address, string(cfg.SMTP.TLS), cfg.SMTP.Username, cfg.SMTP.Password, cfg.SMTP.HELO, cfg.SMTP.InsecureSkipVerify)
	if err != nil {
		return err
	}
	c, err := mailout.NewClient(srv)
	if err != nil {
		return err
	}
	if err := c.DialWithContext(ctx); err != nil {
		return fmt.Errorf("connect %s: %w", cfg.SMTP.Address, err)
	}
	return c.Close()
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
	db, err := store.Open(context.Background(), cfg.Database.Path)
	if err != nil {
		return nil, nil, nil, err
	}
	return cfg, db, desk.New(cfg, db, tmpl, desk.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}), nil
}

func cmdCaseOpen(args []string, stdin io.Reader, stdout io.Writer) error {
	fs, cfgPath := newFlags("case open")
	company := fs.String("company", "", "company")
	contact := fs.String("contact", "", "contact name")
	phone := fs.String("phone", "", "contact phone")
	email := fs.String("email", "", "contact email")
	severity := fs.Int("severity", 0, "severity 1-4")
	subject := fs.String("subject", "", "subject")
	body := fs.String("body", "", "fault description")
	bodyFile := fs.String("body-file", "", "read the description from a file")
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
	text := *body
	switch {
	case *bodyFile != "":
		b, err := os.ReadFile(*bodyFile)
		if err != nil {
			return err
		}
		text = string(b)
	case text == "":
		if f, ok := stdin.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				break // a terminal: no description given
			}
		}
		b, err := io.ReadAll(stdin)
		if err != nil {
			return err
		}
		text = string(b)
	}
	_, db, d, err := openDesk(*cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := d.OpenCase(context.Background(), desk.OpenInput{Company: *company, Contact: *contact, Phone: *phone,
		Email: strings.ToLower(*email), Severity: *severity, Subject: *subject, Description: strings.TrimSpace(text),
		Actor: "hotline"})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, n)
	return nil
}

// caseJSON is the §10 JSON shape of a case.
type caseJSON struct {
	Number       int64         `json:"number"`
	Subject      string        `json:"subject"`
	Status       string        `json:"status"`
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
	Deadlines    deadlinesJSON `json:"deadlines"`
	Events       []eventJSON   `json:"events,omitempty"`
}

type deadlinesJSON struct {
	RespondBy     *string `json:"respond_by"`
	SolveOnlineBy *string `json:"solve_online_by"`
	OnsiteBy      *string `json:"onsite_by"`
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
	j := caseJSON{Number: c.Number, Subject: c.Subject, Status: c.Status, Severity: c.Severity, Priority: c.Priority,
		Company: c.Company, ContactName: c.ContactName, ContactEmail: c.ContactEmail, ContactPhone: c.ContactPhone,
		Region: c.Region, Engineer: c.Engineer, OnsiteNeeded: c.OnsiteNeeded, OpenedAt: *timeJSON(c.OpenedAt, loc),
		Deadlines: deadlinesJSON{RespondBy: timeJSON(c.RespondBy, loc), SolveOnlineBy: timeJSON(c.SolveOnlineBy, loc),
			OnsiteBy: timeJSON(c.OnsiteBy, loc)}}
	if c.LinkedCase != 0 {
		j.LinkedCase = &c.LinkedCase
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
	db, err := store.Open(context.Background(), cfg.Database.Path)
	return cfg, db, err
}

func cmdCaseList(args []string, stdout io.Writer) error {
	fs, cfgPath := newFlags("case list")
	status := fs.String("status", "open", "open, resolved, closed or all")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("case list: unexpected argument %q", pos[0])
	}
	switch *status {
	case "open", "resolved", "closed", "all":
	default:
		return usagef("case list: --status %q: want open, resolved, closed or all", *status)
	}
	cfg, db, err := openRead(*cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	var list []*cases.Case
	if err := db.Read(context.Background(), func(t *store.Txn) error {
		list, err = t.Cases(*status)
		return err
	}); err != nil {
		return err
	}
	if *asJSON {
		out := make([]caseJSON, 0, len(list))
		for _, c := range list {
			out = append(out, toJSON(cfg, c, nil))
		}
		return writeJSON(stdout, out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tSTATUS\tSEV\tPRIORITY\tCOMPANY\tENGINEER\tRESPOND BY\tSUBJECT")
	for _, c := range list {
		j := toJSON(cfg, c, nil)
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", c.Number, c.Status, c.Severity, c.Priority, c.Company,
			orDash(c.Engineer), orDash(deref(j.Deadlines.RespondBy)), c.Subject)
	}
	return tw.Flush()
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
	n, err := strconv.ParseInt(strings.TrimPrefix(pos[0], "#"), 10, 64)
	if err != nil || n <= 0 {
		return usagef("case show: %q is not a case number", pos[0])
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
	j := toJSON(cfg, c, evs)
	if *asJSON {
		return writeJSON(stdout, j)
	}
	fmt.Fprintf(stdout, "Case %d: %s\n", j.Number, j.Subject)
	fmt.Fprintf(stdout, "  status %s, severity %d, priority %s\n", j.Status, j.Severity, j.Priority)
	fmt.Fprintf(stdout, "  company %s, contact %s <%s> %s\n", j.Company, j.ContactName, j.ContactEmail, j.ContactPhone)
	fmt.Fprintf(stdout, "  engineer %s, opened %s\n", orDash(j.Engineer), j.OpenedAt)
	fmt.Fprintf(stdout, "  respond by %s, solve online by %s, on site by %s\n", orDash(deref(j.Deadlines.RespondBy)),
		orDash(deref(j.Deadlines.SolveOnlineBy)), orDash(deref(j.Deadlines.OnsiteBy)))
	fmt.Fprintln(stdout, "Timeline:")
	for _, e := range j.Events {
		fmt.Fprintf(stdout, "  %s  %-18s %-24s %s\n", e.At, e.Kind, e.Actor, e.Detail)
	}
	return nil
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

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
