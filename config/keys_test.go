package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"helpdeskd/calendar"
)

// exampleDiffers lists the keys whose value in config.example.toml is
// deliberately not the default, and why.
var exampleDiffers = map[string]string{
	"mailbox.processed_folder": `the example files handled mail away; the default "" flags it and leaves it in place`,
	"calendars.*.timezone":     "the example calendar is an office in Shanghai; a calendar without a zone is UTC",
}

// TestExampleShowsDefaults compares, key by key, the values written in
// config.example.toml with the defaults declared in code: a key of a
// fixed table must be in the example with its default; a key of entries
// ([plans.NAME], [[customers]]) must show its default in at least one
// entry.
func TestExampleShowsDefaults(t *testing.T) {
	data, err := os.ReadFile("../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, v := parse("../config.example.toml", data)
	if len(v.problems) > 0 {
		t.Fatal(v.problems)
	}
	if len(v.defaults) < 40 {
		t.Fatalf("only %d declared defaults found: %v", len(v.defaults), v.defaults)
	}
	for _, m := range exampleMismatches(t, v.defaults, string(data)) {
		t.Error(m)
	}
}

// TestExampleMismatchesSeen makes sure the comparison sees a changed
// value, a missing key, and an entry key no entry shows.
func TestExampleMismatchesSeen(t *testing.T) {
	defaults := map[string]any{
		"mailbox.poll_interval": "30s", "mailbox.folder": "INBOX", "replies.full_schedule": []int{1, 2, 3},
		"customers.*.language": "zh", "customers.*.contacts.*.phone": "", "plans.*.priority": "normal",
		"mailbox.processed_folder": "",
	}
	example := `[mailbox]
poll_interval = "60s"
processed_folder = "Processed"
[replies]
full_schedule = [1, 2, 3]
[plans.a]
priority = "high"
[plans.b]
priority = "normal"
[[customers]]
language = "en"
contacts = [{ phone = "1" }, { phone = "" }]
`
	got := exampleMismatches(t, defaults, example)
	want := []string{
		"customers.*.language: config.example.toml has [en], the default in code is zh",
		"mailbox.folder: not in config.example.toml (default INBOX)",
		"mailbox.poll_interval: config.example.toml has [60s], the default in code is 30s",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mismatches:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func exampleMismatches(t *testing.T, defaults map[string]any, example string) []string {
	var file map[string]any
	if _, err := toml.Decode(example, &file); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, pattern := range sortedKeys(defaults) {
		def := normTOML(defaults[pattern])
		vals := lookup(file, strings.Split(pattern, "."))
		found := slices.ContainsFunc(vals, func(x any) bool { return reflect.DeepEqual(normTOML(x), def) })
		why, differs := exampleDiffers[pattern]
		switch {
		case differs && found:
			out = append(out, fmt.Sprintf("%s: the example shows the default %v now; drop it from exampleDiffers (%s)", pattern, def, why))
		case differs:
		case len(vals) == 0:
			out = append(out, fmt.Sprintf("%s: not in config.example.toml (default %v)", pattern, def))
		case !found:
			out = append(out, fmt.Sprintf("%s: config.example.toml has %v, the default in code is %v", pattern, vals, def))
		}
	}
	return out
}

// lookup returns the values at a dotted path, "*" matching every entry of
// a table of tables or an array of tables.
func lookup(node any, path []string) []any {
	if len(path) == 0 {
		return []any{node}
	}
	var next []any
	switch n := node.(type) {
	case map[string]any:
		if path[0] == "*" {
			for _, k := range sortedKeys(n) {
				next = append(next, n[k])
			}
		} else if x, ok := n[path[0]]; ok {
			next = append(next, x)
		}
	case []map[string]any:
		if path[0] == "*" {
			for _, m := range n {
				next = append(next, m)
			}
		}
	case []any:
		if path[0] == "*" {
			next = n
		}
	}
	var out []any
	for _, x := range next {
		out = append(out, lookup(x, path[1:])...)
	}
	return out
}

// normTOML makes a Go default and a decoded TOML value comparable.
func normTOML(x any) any {
	switch x := x.(type) {
	case int:
		return int64(x)
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case []int:
		out := make([]any, len(x))
		for i, n := range x {
			out[i] = int64(n)
		}
		return out
	}
	return x
}

func TestNewKeys(t *testing.T) {
	tests := []struct {
		name  string
		add   string
		check func(t *testing.T, c *Config)
	}{
		{"answer_backlog all", "[mailbox]\nanswer_backlog = \"all\"\n", func(t *testing.T, c *Config) {
			if !c.Mailbox.AnswerAll {
				t.Errorf("answer_backlog all: %+v", c.Mailbox)
			}
		}},
		{"answer_backlog duration", "[mailbox]\nanswer_backlog = \"168h\"\n", func(t *testing.T, c *Config) {
			if c.Mailbox.AnswerAll || c.Mailbox.AnswerBacklog != 168*time.Hour {
				t.Errorf("answer_backlog = %v all=%v", c.Mailbox.AnswerBacklog, c.Mailbox.AnswerAll)
			}
		}},
		{"auto_reply_limit N/window", "[policy]\nauto_reply_limit = \"3/30m\"\n", func(t *testing.T, c *Config) {
			if c.Policy.AutoReplyLimit != 3 || c.Policy.AutoReplyWindow != 30*time.Minute {
				t.Errorf("got %d/%v", c.Policy.AutoReplyLimit, c.Policy.AutoReplyWindow)
			}
		}},
		{"auto_reply_limit older form", "[policy]\nauto_reply_limit = 4\nauto_reply_window = \"2h\"\n", func(t *testing.T, c *Config) {
			if c.Policy.AutoReplyLimit != 4 || c.Policy.AutoReplyWindow != 2*time.Hour {
				t.Errorf("got %d/%v", c.Policy.AutoReplyLimit, c.Policy.AutoReplyWindow)
			}
		}},
		{"auto_reply_limit number alone", "[policy]\nauto_reply_limit = 7\n", func(t *testing.T, c *Config) {
			if c.Policy.AutoReplyLimit != 7 || c.Policy.AutoReplyWindow != time.Hour {
				t.Errorf("got %d/%v", c.Policy.AutoReplyLimit, c.Policy.AutoReplyWindow)
			}
		}},
		{"auto_reply_window alone", "[policy]\nauto_reply_window = \"3h\"\n", func(t *testing.T, c *Config) {
			if c.Policy.AutoReplyLimit != 10 || c.Policy.AutoReplyWindow != 3*time.Hour {
				t.Errorf("got %d/%v", c.Policy.AutoReplyLimit, c.Policy.AutoReplyWindow)
			}
		}},
		{"display timezone", "[display]\ntimezone = \"Asia/Shanghai\"\n", func(t *testing.T, c *Config) {
			if c.Display.Location == nil || c.Display.Location.String() != "Asia/Shanghai" {
				t.Errorf("got %v", c.Display.Location)
			}
		}},
		{"report_within", "[inspections]\nreport_within = \"8 working hours\"\n", func(t *testing.T, c *Config) {
			if c.Inspections.ReportWithin != (calendar.Deadline{Kind: calendar.WorkingTime, Duration: 8 * time.Hour}) {
				t.Errorf("got %+v", c.Inspections.ReportWithin)
			}
		}},
		{"services and inspections", "[[customers]]\ncompany = \"X\"\nplan = \"5x8\"\ndomains = [\"x.test\"]\n" +
			"services = [\"email\", \"onsite_7x24\", \"installation\", \"training\", \"inspection\"]\n" +
			"inspections = [\"monthly 5\", \"quarterly 15\", \"weekly Mon\", \"2027-03-01\"]\n" +
			"[[customers]]\ncompany = \"Y\"\nplan = \"5x8\"\ndomains = [\"y.test\"]\n", func(t *testing.T, c *Config) {
			x, y := c.Customers[0], c.Customers[1]
			if !reflect.DeepEqual(x.Services, []string{"email", "onsite_7x24", "installation", "training", "inspection"}) || x.Onsite() != "onsite_7x24" {
				t.Errorf("services = %v", x.Services)
			}
			want := []Inspection{
				{Raw: "monthly 5", Every: "monthly", Day: 5},
				{Raw: "quarterly 15", Every: "quarterly", Day: 15},
				{Raw: "weekly Mon", Every: "weekly", Weekday: time.Monday},
				{Raw: "2027-03-01", Every: "once", Date: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)},
			}
			if !reflect.DeepEqual(x.Inspections, want) {
				t.Errorf("inspections = %+v", x.Inspections)
			}
			if !reflect.DeepEqual(y.Services, DefaultServices) || y.Onsite() != "" || y.Inspections != nil {
				t.Errorf("default services = %v, inspections %v", y.Services, y.Inspections)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A [mailbox] line goes into the minimal file's [mailbox].
			src := minimal + "\n" + tt.add
			if rest, ok := strings.CutPrefix(tt.add, "[mailbox]\n"); ok {
				src = strings.Replace(minimal, "[mailbox]\n", "[mailbox]\n"+rest, 1)
			}
			c, err := Parse("c.toml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestNewKeyProblems(t *testing.T) {
	customer := "[[customers]]\ncompany = \"X\"\nplan = \"5x8\"\ndomains = [\"x.test\"]\n" // lines 13-16
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"answer_backlog", strings.Replace(minimal, "[mailbox]\n", "[mailbox]\nanswer_backlog = \"yesterday\"\n", 1),
			[]string{`c.toml:2: mailbox.answer_backlog: "yesterday" is not a duration (like "24h", "168h", "0s") or "all"`}},
		{"auto_reply_limit form", minimal + "\n[policy]\nauto_reply_limit = \"ten per hour\"\n",
			[]string{`c.toml:14: policy.auto_reply_limit: "ten per hour": want N/WINDOW, like "10/1h"`}},
		{"auto_reply_limit window", minimal + "\n[policy]\nauto_reply_limit = \"10/soon\"\n",
			[]string{`c.toml:14: policy.auto_reply_limit: "soon" is not a duration`}},
		{"auto_reply_limit zero", minimal + "\n[policy]\nauto_reply_limit = \"0/1h\"\n",
			[]string{`c.toml:14: policy.auto_reply_limit: "0/1h": want N/WINDOW`}},
		{"auto_reply_limit and window", minimal + "\n[policy]\nauto_reply_limit = \"10/1h\"\nauto_reply_window = \"2h\"\n",
			[]string{`c.toml:15: policy.auto_reply_window: give the window in auto_reply_limit ("10/1h") only`}},
		{"auto_reply_limit type", minimal + "\n[policy]\nauto_reply_limit = true\n",
			[]string{`c.toml:14: policy.auto_reply_limit: wrong type: want a string like "10/1h", got true or false`}},
		{"display timezone", minimal + "\n[display]\ntimezone = \"Asia/Shangai\"\n",
			[]string{`c.toml:14: display.timezone: unknown time zone "Asia/Shangai"`}},
		{"report_within", minimal + "\n[inspections]\nreport_within = \"2 working weeks\"\n",
			[]string{"c.toml:14: inspections.report_within: "}},
		{"unknown service", minimal + "\n" + customer + "services = [\"email\", \"fax\"]\n",
			[]string{`c.toml:17: customers.0.services: unknown service "fax" (want hotline, email, onsite_7x24, onsite_5x8, installation, training, inspection)`}},
		{"training without installation", minimal + "\n" + customer + "services = [\"email\", \"training\"]\n",
			[]string{"c.toml:17: customers.0.services: training requires installation"}},
		{"services type", minimal + "\n" + customer + "services = \"email\"\n",
			[]string{"c.toml:17: customers.0.services: wrong type: want a list of strings, got a string"}},
		{"inspection entries", minimal + "\n" + customer + "services = [\"inspection\"]\ninspections = [\"monthly 32\", \"weekly funday\", \"fortnightly\", \"quarterly 0\", \"2027-02-30\", \"monthly 5\", \"monthly  5\"]\n",
			[]string{`c.toml:18: customers.0.inspections: "monthly 32": the day of the month must be 1-31`,
				`c.toml:18: customers.0.inspections: "weekly funday": unknown weekday "funday"`,
				`c.toml:18: customers.0.inspections: "fortnightly": want "monthly D", "quarterly D", "weekly DAY" or a date like "2027-03-01"`,
				`c.toml:18: customers.0.inspections: "quarterly 0": the day of the month must be 1-31`,
				`c.toml:18: customers.0.inspections: "2027-02-30": want`,
				`c.toml:18: customers.0.inspections: "monthly  5" is listed twice`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.toml", []byte(tt.src))
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

// Issue 13 point 2: an unknown key of a [[customers]] entry was reported
// twice when there were two entries.
func TestUnknownKeyReportedOnce(t *testing.T) {
	src := minimal + "\n" +
		"[[customers]]\ncompany = \"X\"\nplan = \"5x8\"\ncolour = \"red\"\n" + // 13-16
		"[[customers]]\ncompany = \"Y\"\nplan = \"5x8\"\ncolour = \"blue\"\n" + // 17-20
		"contacts = [{ name = \"A\", email = \"a@y.test\", shoe = 1 }]\n" // 21
	_, err := Parse("c.toml", []byte(src))
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{
		"c.toml:16: customers.0.colour: unknown key",
		"c.toml:20: customers.1.colour: unknown key",
		"c.toml:21: customers.1.contacts.0.shoe: unknown key",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

// Issue 9 point 4: relative paths are relative to the config file, from
// whatever directory the command runs in; absolute paths stay.
func TestPathsRelativeToConfigFile(t *testing.T) {
	etc := filepath.Join(t.TempDir(), "etc")
	other := t.TempDir()
	for _, d := range []string{"tmpl", "secret"} {
		if err := os.MkdirAll(filepath.Join(etc, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(etc, "secret", "imap.pass"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(other, "abs.db")
	src := strings.Replace(minimal, `password = "p"`, `password_file = "secret/imap.pass"`, 1) +
		"[database]\npath = \"data/helpdeskd.db\"\n[templates]\ndir = \"tmpl\"\n"
	if err := os.WriteFile(filepath.Join(etc, "helpdeskd.toml"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	absSrc := strings.Replace(src, `"data/helpdeskd.db"`, `"`+abs+`"`, 1)
	if err := os.WriteFile(filepath.Join(etc, "abs.toml"), []byte(absSrc), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(other)
	rel, err := filepath.Rel(other, filepath.Join(etc, "helpdeskd.toml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(rel)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(etc, "data", "helpdeskd.db"); cfg.Database.Path != want {
		t.Errorf("database.path = %s, want %s", cfg.Database.Path, want)
	}
	if want := filepath.Join(etc, "tmpl"); cfg.Templates.Dir != want {
		t.Errorf("templates.dir = %s, want %s", cfg.Templates.Dir, want)
	}
	if cfg.Mailbox.Password != "s3cret" || cfg.CheckSecrets() != nil {
		t.Errorf("password_file: %q %v", cfg.Mailbox.Password, cfg.CheckSecrets())
	}
	if !hasWarning(cfg, "note: relative to the config file's directory: "+filepath.Join(etc, "data", "helpdeskd.db")) {
		t.Errorf("no note on the relative database path: %v", cfg.Warnings())
	}
	cfg, err = Load(filepath.Join(etc, "abs.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database.Path != abs || hasWarning(cfg, "database.path") {
		t.Errorf("absolute database.path = %s, warnings %v", cfg.Database.Path, cfg.Warnings())
	}
}

func hasWarning(cfg *Config, s string) bool {
	return slices.ContainsFunc(cfg.Warnings(), func(p Problem) bool { return strings.Contains(p.Error(), s) })
}

// Issue 9 point 7 and issue 12: what check reports about a valid file.
func TestWarnings(t *testing.T) {
	staff := "[[staff]]\nname = \"E\"\nemail = \"e@example.com\"\nroles = [\"engineer\"]\nregions = [\"north\"]\n" // 13-17
	tests := []struct {
		name string
		add  string
		want []string
		not  []string
	}{
		{"no staff", "", []string{"c.toml: staff: warning: no [[staff]] at all"}, nil},
		{"no engineer", "[[staff]]\nname = \"D\"\nemail = \"d@example.com\"\nroles = [\"specialist\"]\n",
			[]string{"c.toml: staff: warning: no staff member has the role engineer"}, []string{"no [[staff]] at all"}},
		{"customer never matches", staff + "[[customers]]\ncompany = \"Ghost\"\nplan = \"5x8\"\nregion = \"north\"\n",
			[]string{"c.toml:18: customers.0: warning: Ghost has no contacts and no domains"}, []string{"staff:", "region"}},
		{"region without engineer", staff + "[[customers]]\ncompany = \"X\"\nplan = \"5x8\"\ndomains = [\"x.test\"]\nregion = \"south\"\n",
			[]string{`c.toml:22: customers.0.region: warning: no engineer serves region "south"`}, []string{"no contacts"}},
		{"unknown_region without engineer", staff + "[policy]\nunknown_region = \"west\"\n",
			[]string{`c.toml:19: policy.unknown_region: warning: no engineer serves region "west"`}, nil},
		{"inspections without the service", staff + "[[customers]]\ncompany = \"X\"\nplan = \"5x8\"\ndomains = [\"x.test\"]\ninspections = [\"monthly 5\"]\n",
			[]string{"c.toml:22: customers.0.inspections: warning: X does not have the inspection service: no inspection is scheduled"}, nil},
		{"inspection service without schedule", staff + "[[customers]]\ncompany = \"X\"\nplan = \"5x8\"\ndomains = [\"x.test\"]\nservices = [\"inspection\"]\n",
			[]string{"c.toml:22: customers.0.services: warning: X has the inspection service but no inspections schedule"}, nil},
		{"default database path", staff, []string{"c.toml: database.path: note: relative to the config file's directory: "}, []string{"warning"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("c.toml", []byte(minimal+"\n"+tt.add))
			if err != nil {
				t.Fatal(err)
			}
			got := cfg.Warnings().Error()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("warnings lack %q:\n%s", w, got)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(got, w) {
					t.Errorf("warnings have %q:\n%s", w, got)
				}
			}
		})
	}
	t.Run("inspections without the service are not scheduled", func(t *testing.T) {
		cfg, err := Parse("c.toml", []byte(minimal+"\n"+staff+"[[customers]]\ncompany = \"X\"\nplan = \"5x8\"\ndomains = [\"x.test\"]\ninspections = [\"monthly 5\"]\n"))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Customers[0].Inspections != nil {
			t.Errorf("inspections kept: %v", cfg.Customers[0].Inspections)
		}
	})
}

// Issue 9 point 7: SMTP without username needs no password.
func TestSMTPWithoutUsernameNeedsNoPassword(t *testing.T) {
	cfg, err := Parse("c.toml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SMTP.Username != "" || cfg.CheckSecrets() != nil {
		t.Fatalf("username %q, secrets %v", cfg.SMTP.Username, cfg.CheckSecrets())
	}
	src := strings.Replace(minimal, `from = "Support`, "password_env = \"HELPDESKD_TEST_UNSET_VAR\"\nfrom = \"Support", 1)
	cfg, err = Parse("c.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckSecrets(); err != nil {
		t.Errorf("a password nobody uses must not be required: %v", err)
	}
	if !hasWarning(cfg, "c.toml:8: smtp.password_env: warning: not used: no smtp.username") {
		t.Errorf("no warning on the unused password: %v", cfg.Warnings())
	}
	src = strings.Replace(src, `from = "Support`, "username = \"u\"\nfrom = \"Support", 1)
	cfg, err = Parse("c.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckSecrets(); err == nil || !strings.Contains(err.Error(), "smtp.password_env: environment variable HELPDESKD_TEST_UNSET_VAR is not set") {
		t.Errorf("with a username the password is needed: %v", err)
	}
}
