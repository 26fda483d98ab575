// Command helpdeskd is an email-first helpdesk daemon: it turns mail to
// the support mailbox into cases, answers customers on the promised
// schedule and escalates when a deadline slips.
//
// It holds flags, config loading, wiring and shutdown only; see package
// daemon for the run and package desk for the rules' orchestration.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// usageError is a bad command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := dispatch(args, stdin, stdout, stderr)
	var ue usageError
	var hr helpRequest
	switch {
	case err == nil:
		return 0
	case errors.As(err, &hr):
		printHelp(stdout, hr.fs)
		return 0
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage())
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "helpdeskd: %s\n", ue.msg)
		return 2
	default:
		fmt.Fprintf(stderr, "helpdeskd: %s\n", oneLine(err.Error()))
		return 1
	}
}

// oneLine keeps the exit message on one line (SPEC §10); multi-problem
// errors such as config checks print their lines before returning.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	args = hoist(args)
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		args[0] = "version"
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help" {
		fmt.Fprint(stderr, usage())
		return usagef("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(rest, stderr)
	case "check":
		return cmdCheck(rest, stdout, stderr)
	case "case":
		if len(rest) > 0 && (rest[0] == "-h" || rest[0] == "--help") {
			return flag.ErrHelp
		}
		if len(rest) == 0 {
			return usagef("case: want open, list, show, onsite, part or note")
		}
		switch rest[0] {
		case "open":
			return cmdCaseOpen(rest[1:], stdin, stdout)
		case "list":
			return cmdCaseList(rest[1:], stdout)
		case "show":
			return cmdCaseShow(rest[1:], stdout)
		case "onsite":
			return cmdCaseOnsite(rest[1:], stdout)
		case "part", "note":
			return cmdCaseText(rest[0], rest[1:], stdin, stdout)
		}
		return usagef("case: unknown subcommand %q (want open, list, show, onsite, part or note)", rest[0])
	case "sla":
		return cmdSLA(rest, stdout)
	case "report":
		return cmdReport(rest, stdout)
	case "demo":
		return cmdDemo(rest, stdout)
	case "quarantine":
		return cmdQuarantine(rest, stdout)
	case "mail":
		return cmdMail(rest, stdout)
	case "backup":
		return cmdBackup(rest, stdout)
	case "version":
		return cmdVersion(rest, stdout)
	case "help", "-h", "--help":
		if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			// helpdeskd help COMMAND [SUBCOMMAND] = COMMAND [SUBCOMMAND] --help
			words := rest[:1]
			if (rest[0] == "case" || rest[0] == "quarantine" || rest[0] == "mail") && len(rest) > 1 {
				words = rest[:2]
			}
			return dispatch(append(append([]string(nil), words...), "--help"), stdin, stdout, stderr)
		}
		return flag.ErrHelp
	}
	return usagef("unknown command %q (run helpdeskd help)", cmd)
}

// flags returns a FlagSet with --config.
func newFlags(name string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	def := os.Getenv("HELPDESKD_CONFIG")
	if def == "" {
		def = "helpdeskd.toml"
	}
	cfg := fs.String("config", def, "Read the configuration from `FILE` (default $HELPDESKD_CONFIG, else helpdeskd.toml).")
	return fs, cfg
}

// noArgs parses flags for a command that takes no positional arguments.
func noArgs(fs *flag.FlagSet, args []string) error {
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), pos[0])
	}
	return nil
}

// valueFlags are the flags that take a value (the rest are booleans), so
// that flags can be moved from before the command words to after them.
var valueFlags = map[string]bool{"config": true, "status": true, "company": true, "contact": true, "phone": true,
	"email": true, "severity": true, "subject": true, "body": true, "body-file": true, "customer": true,
	"at": true, "from": true, "to": true, "kind": true, "date": true, "engineer": true, "as": true,
	"since": true, "limit": true}

// hoist moves flags that come before the command words ("--config F case
// list") after them, so that flags may stand anywhere (SPEC §10).
func hoist(args []string) []string {
	var words, flags []string
	nwords := 1
	i := 0
	for ; i < len(args) && len(words) < nwords; i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && valueFlags[name] && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		words = append(words, a)
		if a == "case" || a == "quarantine" || a == "mail" {
			nwords = 2
		}
	}
	return append(append(words, flags...), args[i:]...)
}

// parse parses flags that may come before or after positional arguments
// (SPEC §10) and returns the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, helpRequest{fs}
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
