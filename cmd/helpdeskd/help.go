package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"unicode"

	"helpdeskd/daemon"
)

// helpRequest is COMMAND --help: print that command's flags (exit 0).
type helpRequest struct{ fs *flag.FlagSet }

func (h helpRequest) Error() string { return h.fs.Name() + ": help requested" }

// command is one line of the overview and the head of COMMAND --help.
type command struct{ name, args, about string }

var commands = []command{
	{"serve", "", "Run the daemon until SIGINT/SIGTERM; SIGHUP reloads the configuration."},
	{"check", "[--offline]", "Validate the configuration and templates, and test the IMAP and SMTP logins."},
	{"case open", "--company C --contact NAME --phone P --email E --severity N --subject S [--body TEXT | --body-file F | stdin] [--kind fault|installation|training|inspection|consulting] [--date YYYY-MM-DD]",
		"Open a case from a hotline call; the customer gets the same acknowledgement as by email."},
	{"case list", "[--status open|resolved|closed|all] [--engineer EMAIL] [--company C] [--kind K] [--overdue] [--json]", "List cases."},
	{"case show", "N [--json]", "Show one case with its deadlines and timeline."},
	{"case onsite", "N dispatch EMAIL [--billable] | N arrived [--as EMAIL]", "Record an on-site dispatch or the engineer's arrival."},
	{"case part", "N TEXT [--as EMAIL]", "Record a spare part on a case."},
	{"case note", "N [TEXT | stdin] [--as EMAIL]", "Add an internal note to a case (the text from stdin when none is given)."},
	{"sla", "--customer EMAIL|COMPANY --severity N --at RFC3339 [--json]", "Say when a case of this customer and severity would be due."},
	{"report", "[--from DATE] [--to DATE] [--json | --csv]", "Deadline compliance by severity for a period."},
	{"quarantine list", "[--json]", "List unreadable mail kept aside."},
	{"quarantine replay", "ID", "Run a quarantined mail through intake again."},
	{"mail kept", "[--since DURATION] [--limit N] [--json]", "List mail kept without a case (own mail, automatic mail, ignored senders), newest first."},
	{"backup", "FILE", "Write a consistent copy of the database to FILE while the daemon runs."},
	{"demo", "[--keep]", "Show a case flowing end to end on embedded mail servers."},
	{"version", "", "Print the version and commit of this binary."},
	{"help", "[COMMAND]", "Print this overview, or the flags of COMMAND."},
}

func usage() string {
	var b strings.Builder
	b.WriteString("usage: helpdeskd COMMAND [flags]\n\ncommands:\n")
	for _, c := range commands {
		line := c.name
		if c.args != "" {
			line += " " + c.args
		}
		fmt.Fprintf(&b, "  %s\n      %s\n", line, c.about)
	}
	b.WriteString("\nevery command takes --config FILE (default $HELPDESKD_CONFIG, else helpdeskd.toml);\n" +
		"helpdeskd help COMMAND (or COMMAND --help) lists its flags\n")
	return b.String()
}

// printHelp prints the synopsis of the command fs belongs to and each of
// its flags with its sentence.
func printHelp(w io.Writer, fs *flag.FlagSet) {
	head := fmt.Sprintf("usage: helpdeskd %s [flags]\n", fs.Name())
	for _, c := range commands {
		if c.name == fs.Name() {
			head = fmt.Sprintf("usage: helpdeskd %s %s\n\n%s\n", c.name, c.args, c.about)
			break
		}
	}
	fmt.Fprint(w, head)
	fmt.Fprintln(w, "\nflags:")
	fs.VisitAll(func(f *flag.Flag) {
		name, text := flag.UnquoteUsage(f)
		head := "--" + f.Name
		if name != "" {
			head += " " + name
		}
		text = sentence(text)
		if def := f.DefValue; def != "" && def != "false" && def != "0" && f.Name != "config" {
			text += fmt.Sprintf(" Default: %s.", def)
		}
		fmt.Fprintf(w, "  %-22s %s\n", head, text)
	})
}

// sentence makes a flag's usage text a sentence: capitalised, with a
// full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	if !strings.ContainsRune(".!?)", r[len(r)-1]) {
		r = append(r, '.')
	}
	return string(r)
}

// versionLine is what `helpdeskd version` prints.
func versionLine() string {
	v, c := daemon.BuildInfo()
	return fmt.Sprintf("helpdeskd %s (commit %s)", v, c)
}
