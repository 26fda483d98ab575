// Package templates renders every mail helpdeskd writes (SPEC §6).
//
// Built-in Chinese and English templates are embedded in the binary under
// default/LANG/NAME.tmpl. An override directory with the same layout
// (DIR/zh/ack.tmpl, DIR/en/status.tmpl, ...) replaces them file by file.
// Each file defines two templates, "subject" and "body" (text/template).
// Load parses every template at start, so a broken one is reported by
// `helpdeskd check`, never at send time.
package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
)

//go:embed default
var builtin embed.FS

// Languages are the template languages.
var Languages = []string{"zh", "en"}

// Names lists every template the daemon uses.
var Names = []string{"ack", "notify_new", "notify_assigned", "status", "daily", "escalation", "warning",
	"confirm_request", "resolved_notice", "confirmed_notice", "closed", "reopened_notice", "relay",
	"note", "command_error", "staff_notice", "visit_offer", "consulting", "inspection_report", "inspection_reminder"}

// Set is a parsed set of templates.
type Set struct {
	t map[string]*template.Template // "zh/ack"
}

// Person is a recipient or sender.
type Person struct{ Name, Email string }

// CaseView is the case as templates see it; times are formatted in the
// case's calendar time zone.
type CaseView struct {
	Number                                       int64
	Token                                        string
	Subject                                      string // with token
	Severity                                     int
	Priority                                     string
	Status                                       string
	StatusText                                   string
	Engineer, EngineerName                       string
	Company                                      string
	ContactName, ContactEmail, ContactPhone      string
	Region                                       string
	Description                                  string
	OpenedAt, RespondBy, SolveOnlineBy, OnsiteBy string
}

// Data is what a template sees.
type Data struct {
	Case      CaseView
	Recipient Person
	Sender    Person // the staff member, for relay and note
	Liaison   Person // foreign-liaison contact (SPEC §1.3), if any
	Support   string // the support address line
	Reply     string // latest public staff reply
	Text      string // relayed text, note text
	Reason    string
	Deadline  string
	Nth       int // which scheduled reply (1 = first)
	Review    bool
	Signed    bool // the relayed text already ends with the sender's name
	Errors    []string
	// ReasonCode is the reason as a code of package cases; Reason is it
	// in the recipient's words (ReasonText).
	ReasonCode string
	Who        string // an address or name the reason is about
	Duration   string // a duration in the recipient's words ("30 分钟"), "" if none
	Level      int    // an escalation step, a limit
	Date       string // a planned visit or inspection day, YYYY-MM-DD
	Kind       string // the case's kind in the recipient's words
	Title      string // a short title of the reason, for subjects
}

// Load parses the built-in templates and the overrides in dir ("" = none).
// Every problem is reported, each naming its file.
func Load(dir string) (*Set, error) {
	s := &Set{t: map[string]*template.Template{}}
	var errs []error
	for _, lang := range Languages {
		for _, name := range Names {
			key := lang + "/" + name
			src, file, err := source(dir, lang, name)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			t, err := template.New(key).Option("missingkey=error").Parse(src)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", file, err))
				continue
			}
			for _, part := range []string{"subject", "body"} {
				if t.Lookup(part) == nil {
					errs = append(errs, fmt.Errorf("%s: no {{define %q}}", file, part))
				}
			}
			// Render with sample data so that a reference to a field that
			// does not exist fails now, not at send time.
			if _, _, err := render(t, sample); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", file, err))
				continue
			}
			s.t[key] = t
		}
	}
	if dir != "" {
		errs = append(errs, unknownFiles(dir)...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

func source(dir, lang, name string) (src, file string, err error) {
	if dir != "" {
		file = filepath.Join(dir, lang, name+".tmpl")
		b, err := os.ReadFile(file)
		if err == nil {
			return string(b), file, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", file, err
		}
	}
	file = "default/" + lang + "/" + name + ".tmpl"
	b, err := builtin.ReadFile(file)
	return string(b), "(built-in) " + file, err
}

// unknownFiles reports override files that replace no template, since a
// misspelt file name would otherwise be silently ignored.
func unknownFiles(dir string) []error {
	var errs []error
	for _, lang := range Languages {
		ents, err := os.ReadDir(filepath.Join(dir, lang))
		if err != nil {
			continue
		}
		for _, e := range ents {
			n, ok := strings.CutSuffix(e.Name(), ".tmpl")
			if ok && !slices.Contains(Names, n) {
				errs = append(errs, fmt.Errorf("%s: no template named %q (known: %s)",
					filepath.Join(dir, lang, e.Name()), n, strings.Join(Names, ", ")))
			}
		}
	}
	return errs
}

// Render renders template name in lang ("zh" or "en"; anything else is zh).
func (s *Set) Render(lang, name string, d Data) (subject, body string, err error) {
	if lang != "en" {
		lang = "zh"
	}
	t, ok := s.t[lang+"/"+name]
	if !ok {
		return "", "", fmt.Errorf("no template %s/%s", lang, name)
	}
	return render(t, d)
}

func render(t *template.Template, d Data) (string, string, error) {
	var sb, bb bytes.Buffer
	if err := t.ExecuteTemplate(&sb, "subject", d); err != nil {
		return "", "", err
	}
	if err := t.ExecuteTemplate(&bb, "body", d); err != nil {
		return "", "", err
	}
	subject := strings.Join(strings.Fields(sb.String()), " ")
	return subject, strings.TrimSpace(bb.String()) + "\n", nil
}

var sample = Data{
	Case: CaseView{Number: 1, Token: "[Case#1]", Subject: "[Case#1] sample", Severity: 3, Priority: "normal",
		Status: "open", StatusText: "open", Engineer: "eng@example.com", EngineerName: "Eng",
		Company: "ACME", ContactName: "Alice", ContactEmail: "alice@acme.test", Description: "text",
		OpenedAt: "2026-11-26 09:00", RespondBy: "2026-11-26 17:00", SolveOnlineBy: "2026-11-27 17:00"},
	Recipient: Person{Name: "Alice", Email: "alice@acme.test"},
	Sender:    Person{Name: "Eng", Email: "eng@example.com"},
	Liaison:   Person{Name: "Li", Email: "li@example.com"},
	Support:   "Support <support@example.com>",
	Reply:     "reply", Text: "text", Reason: "reason", Deadline: "2026-11-26 17:00", Nth: 2,
	Errors: []string{"bad"}, ReasonCode: "respond", Who: "eng@example.com", Duration: "30 分钟", Level: 1,
	Date: "2026-11-27", Kind: "fault", Title: "title",
}
