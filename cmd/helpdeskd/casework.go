package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"

	"helpdeskd/store"
)

// caseCommand runs one staff command line on case n for `case onsite`,
// `case part` and `case note` (SPEC §11.9).
func caseCommand(cfgPath string, n int64, as, line string, stdout io.Writer) error {
	cfg, db, d, err := openDesk(cfgPath)
	if err != nil {
		return err
	}
	defer db.Close()
	actor := ""
	if as != "" {
		s, ok := cfg.StaffByEmail(as)
		if !ok {
			return fmt.Errorf("--as %s: no staff member has this address", as)
		}
		actor = s.Email
	}
	// desk.Command reads the case in its own transaction: a missing case
	// is its store.ErrNotFound.
	err = d.Command(context.Background(), n, actor, line)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no case %d", n)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "case %d: %s\n", n, strings.SplitN(line, "\n", 2)[0])
	return nil
}

// cmdCaseOnsite is `case onsite N dispatch EMAIL [--billable]` and
// `case onsite N arrived`, the mail commands /onsite dispatch and
// /onsite arrived.
func cmdCaseOnsite(args []string, stdout io.Writer) error {
	fs, cfgPath := newFlags("case onsite")
	billable := fs.Bool("billable", false, "dispatch to a customer without on-site service; the visit is billed")
	as := fs.String("as", "", "record the command as this staff member (default: the service centre)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	const want = "case onsite: want N dispatch EMAIL [--billable] or N arrived"
	if len(pos) < 2 {
		return usagef(want)
	}
	n, err := caseNumber("case onsite", pos[0])
	if err != nil {
		return err
	}
	var line string
	switch {
	case strings.EqualFold(pos[1], "dispatch") && len(pos) == 3:
		if a, err := mail.ParseAddress(pos[2]); err != nil || a.Name != "" {
			return usagef("case onsite: %q is not an email address", pos[2])
		}
		line = "/onsite dispatch " + strings.ToLower(pos[2])
		if *billable {
			line += " --billable"
		}
	case strings.EqualFold(pos[1], "arrived") && len(pos) == 2:
		if *billable {
			return usagef("case onsite: --billable goes with dispatch")
		}
		line = "/onsite arrived"
	default:
		return usagef(want)
	}
	return caseCommand(*cfgPath, n, *as, line, stdout)
}

// cmdCaseText is `case part N TEXT` and `case note N TEXT`, the mail
// commands /part and /note. The text is the remaining arguments, or
// standard input when there are none; a part is one line.
func cmdCaseText(name string, args []string, stdin io.Reader, stdout io.Writer) error {
	fs, cfgPath := newFlags("case " + name)
	as := fs.String("as", "", "record the command as this staff member (default: the service centre)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 {
		return usagef("case %s: want N TEXT", name)
	}
	n, err := caseNumber("case "+name, pos[0])
	if err != nil {
		return err
	}
	text := strings.Join(pos[1:], " ")
	if text == "" {
		if text, err = readStdin(stdin); err != nil {
			return err
		}
	}
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if text == "" {
		return usagef("case %s: want N TEXT (or the text on standard input)", name)
	}
	if name == "part" {
		text = strings.Join(strings.Fields(text), " ")
	}
	return caseCommand(*cfgPath, n, *as, "/"+name+" "+text, stdout)
}
