package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExampleLoads(t *testing.T) {
	t.Setenv("HELPDESKD_IMAP_PASSWORD", "x")
	t.Setenv("HELPDESKD_SMTP_PASSWORD", "y")
	cfg, err := Load("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mailbox.Password != "x" || cfg.SMTP.Password != "y" {
		t.Errorf("passwords from env: %q %q", cfg.Mailbox.Password, cfg.SMTP.Password)
	}
	if got := cfg.Severities[2].Onsite.String(); got != "3 working days" {
		t.Errorf("severity 2 onsite = %q", got)
	}
	if cfg.Plans["7x24"].RespondWithin != 4*time.Hour || cfg.Plans["7x24"].Calendar.Name != "always" {
		t.Errorf("7x24 plan = %+v", cfg.Plans["7x24"])
	}
	if cfg.Replies.First != 10*time.Minute || cfg.Replies.Second != 30*time.Minute || cfg.Replies.Every != time.Hour {
		t.Errorf("replies = %+v", cfg.Replies)
	}
	cu, contact := cfg.CustomerFor("Alice@ACME.test")
	if cu == nil || cu.Company != "ACME" || contact == nil || contact.Phone != "+86 10 1234" {
		t.Errorf("CustomerFor contact = %v %v", cu, contact)
	}
	if cu, contact := cfg.CustomerFor("bob@acme.test"); cu == nil || contact != nil {
		t.Errorf("CustomerFor domain = %v %v", cu, contact)
	}
	if cu, _ := cfg.CustomerFor("x@other.test"); cu != nil {
		t.Errorf("CustomerFor unknown = %v", cu)
	}
}

const minimal = `[mailbox]
address = "imap.example.com:993"
username = "support@example.com"
password = "p"

[smtp]
address = "smtp.example.com:587"
from = "Support <support@example.com>"

[plans.5x8]
calendar = "always"
`

func TestDefaults(t *testing.T) {
	cfg, err := Parse("min.toml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mailbox.TLS != TLSImplicit || cfg.SMTP.TLS != TLSStartTLS || cfg.Mailbox.Folder != "INBOX" {
		t.Errorf("tls/folder defaults: %+v", cfg.Mailbox)
	}
	wd, _ := os.Getwd()
	if cfg.Mailbox.PollInterval != 30*time.Second || cfg.Threading.Tag != "Case" || cfg.Database.Path != filepath.Join(wd, "helpdeskd.db") {
		t.Errorf("defaults: %+v %+v %+v", cfg.Mailbox, cfg.Threading, cfg.Database)
	}
	if len(cfg.Severities) != 4 || cfg.Severities[1].Respond.String() != "2 working hours" || cfg.Severities[4].SolveOnline.String() != "48 working hours" {
		t.Errorf("severity defaults: %+v", cfg.Severities)
	}
	if cfg.Closing.AutoCloseAfter != 168*time.Hour || len(cfg.Closing.ConfirmWords) != 6 || cfg.Escalation.StuckAfter != 30*time.Minute {
		t.Errorf("closing/escalation defaults: %+v %+v", cfg.Closing, cfg.Escalation)
	}
	if cfg.Policy.UnknownSenders != "open" || cfg.Policy.DefaultSeverity != 3 || cfg.Policy.AutoReplyLimit != 10 || cfg.Policy.AutoReplyWindow != time.Hour {
		t.Errorf("policy defaults: %+v", cfg.Policy)
	}
	if cfg.Mailbox.AnswerBacklog != 24*time.Hour || cfg.Mailbox.AnswerAll {
		t.Errorf("answer_backlog default: %v %v", cfg.Mailbox.AnswerBacklog, cfg.Mailbox.AnswerAll)
	}
	if cfg.Display.Location != time.Local {
		t.Errorf("display timezone default: %v", cfg.Display.Location)
	}
	if got := cfg.Inspections.ReportWithin.String(); got != "2 working days" {
		t.Errorf("report_within default: %q", got)
	}
}

func TestProblems(t *testing.T) {
	tests := []struct {
		name string
		add  string
		want []string // each must appear, as FILE:LINE: key: ...
	}{
		{"unknown table", "[mailbox2]\nfoo = 1\n", []string{"c.toml:13: mailbox2: unknown table"}},
		{"unknown key", "[security]\nfoo = 1\n", []string{"c.toml:14: security.foo: unknown key"}},
		{"unknown nested key", "[closing]\nauto_close = \"1h\"\n", []string{"c.toml:14: closing.auto_close: unknown key"}},
		{"bad duration", "[replies]\nevery = \"soon\"\n", []string{`c.toml:14: replies.every: "soon" is not a duration`}},
		{"bad deadline", "[severities.2]\nrespond = \"4 working weeks\"\n", []string{"c.toml:14: severities.2.respond:"}},
		{"bad tls and priority", "[plans.7x24]\ncalendar = \"always\"\npriority = \"asap\"\n", []string{`c.toml:15: plans.7x24.priority: "asap" is not one of`}},
		{"unknown calendar", "[plans.x]\ncalendar = \"nope\"\n", []string{`c.toml:14: plans.x.calendar: no calendar named "nope"`}},
		{"bad calendar", "[calendars.c]\ntimezone = \"Mars/Base\"\nhours = [\"18:00-09:00\"]\ndays = [\"mon\", \"funday\"]\n",
			[]string{`c.toml:14: calendars.c.timezone: unknown time zone "Mars/Base"`, "c.toml:15: calendars.c.hours:", "c.toml:16: calendars.c.days:"}},
		{"staff", "[[staff]]\nname = \"A\"\nemail = \"a@example.com\"\nroles = [\"wizard\"]\n[[staff]]\nemail = \"not-an-address\"\nroles = [\"engineer\"]\n",
			[]string{`c.toml:16: staff.0.roles: "wizard" is not a role`, "c.toml:17: staff.1.name: is required", `c.toml:18: staff.1.email: "not-an-address" is not an email address`}},
		{"customer plan", "[[customers]]\ncompany = \"X\"\nplan = \"gold\"\nlanguage = \"fr\"\n",
			[]string{`c.toml:15: customers.0.plan: no plan named "gold"`, `c.toml:16: customers.0.language: "fr" is not one of zh, en`}},
		{"policy", "[policy]\nunknown_senders = \"bounce\"\n", []string{`c.toml:14: policy.unknown_senders: "bounce" is not one of open, ignore`}},
		{"password env missing", "[security]\nrequire_authentication = true\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.toml", []byte(minimal+"\n"+tt.add))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	src := strings.Replace(minimal, `address = "smtp.example.com:587"`, `address = "smtp.example.com"`, 1) +
		"[replies]\nfirst = \"x\"\nsecond = \"y\"\n"
	_, err := Parse("c.toml", []byte(src))
	ps, ok := err.(Problems)
	if !ok || len(ps) < 3 {
		t.Fatalf("want >= 3 problems, got %v", err)
	}
}

func TestSyntaxError(t *testing.T) {
	_, err := Parse("c.toml", []byte("[mailbox]\naddress = \"x\nfoo"))
	if err == nil || !strings.HasPrefix(err.Error(), "c.toml:2: ") {
		t.Fatalf("syntax error without line: %v", err)
	}
}

func TestPasswordSources(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/pw", []byte("from-file\n"), 0o600)
	src := strings.Replace(minimal, `password = "p"`, `password_file = "`+dir+`/pw"`, 1)
	cfg, err := Parse("c.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mailbox.Password != "from-file" {
		t.Errorf("password_file: %q", cfg.Mailbox.Password)
	}
	src = strings.Replace(minimal, `password = "p"`, `password_env = "HELPDESKD_TEST_UNSET_VAR"`, 1)
	cfg, err = Parse("c.toml", []byte(src))
	if err != nil {
		t.Fatalf("a missing password must not fail offline parsing: %v", err)
	}
	if err := cfg.CheckSecrets(); err == nil || !strings.Contains(err.Error(), "c.toml:4: mailbox.password_env: environment variable HELPDESKD_TEST_UNSET_VAR is not set") {
		t.Errorf("missing env: %v", err)
	}
	src = strings.Replace(minimal, `password = "p"`, "password = \"p\"\npassword_env = \"X\"", 1)
	if _, err := Parse("c.toml", []byte(src)); err == nil || !strings.Contains(err.Error(), "give only one of") {
		t.Errorf("two sources: %v", err)
	}
}

func TestEmptyChainRejected(t *testing.T) {
	_, err := Parse("c.toml", []byte(minimal+"\n[escalation]\nchain = []\n"))
	if err == nil || !strings.Contains(err.Error(), "escalation.chain: must name at least one role") {
		t.Fatalf("err = %v", err)
	}
}

func TestMoreProblemShapes(t *testing.T) {
	tests := []struct {
		name string
		add  string
		want []string
		not  []string
	}{
		{"wrong types in two tables, all reported", "[replies]\nevery = 3600\n[policy]\ndefault_severity = \"high\"\n[threading]\ntag = \"Case!\"\n",
			[]string{"c.toml:14: replies.every: wrong type: want a string, got an integer",
				"c.toml:16: policy.default_severity: wrong type: want an integer, got a string",
				`c.toml:18: threading.tag: "Case!": only letters`}, nil},
		{"unknown key in the second staff entry", "[[staff]]\nname = \"A\"\nemail = \"a@example.com\"\nroles = [\"engineer\"]\n[[staff]]\nname = \"B\"\nemail = \"b@example.com\"\nroles = [\"engineer\"]\nfavourite = \"tea\"\n",
			[]string{"c.toml:21: staff.1.favourite: unknown key"}, nil},
		{"nested contacts", "[[customers]]\ncompany = \"X\"\nplan = \"5x8\"\n[[customers.contacts]]\nname = \"A\"\nemail = \"a@x.test\"\n[[customers.contacts]]\nname = \"B\"\nemail = \"b@@x.test\"\nshoe = 1\n",
			[]string{`c.toml:21: customers.0.contacts.1.email: "b@@x.test" is not an email address`, "c.toml:22: customers.0.contacts.1.shoe: unknown key"}, nil},
		{"broken calendar reported once", "[calendars.office]\ntimezone = \"Asia/Shangai\"\nhours = [\"09:00-18:00\"]\n[plans.x]\ncalendar = \"office\"\n",
			[]string{`c.toml:14: calendars.office.timezone: unknown time zone "Asia/Shangai"`}, []string{"no calendar named"}},
		{"template dir missing", "[templates]\ndir = \"/nonexistent/helpdeskd-templates\"\n",
			[]string{"c.toml:14: templates.dir:"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.toml", []byte(minimal+"\n"+tt.add))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error has %q:\n%v", w, err)
				}
			}
		})
	}
}
