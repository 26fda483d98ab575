package cases

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/width"

	"helpdeskd/config"
)

// Command is one staff command line (SPEC §4).
type Command struct {
	Name string // severity, assign, priority, resolve, approve, onsite, part, reopen, close, note
	Args []string
	Text string // rest of the line, for part and note
	Line string // as written, for error messages
}

// commandNames are the commands of SPEC §4 and §11.8.
var commandNames = []string{"severity", "assign", "priority", "resolve", "approve", "onsite", "part", "reopen",
	"close", "note", "kind", "scope", "done"}

// ParseBody splits a staff mail's new text (quoted history already
// removed) into its command lines and the rest (SPEC §4). Lines starting
// with "/" at the top of the body are commands (an unknown name there is
// a bad command); further down, a line is a command only when it starts
// with a known command name, so that "您好，" followed by "/resolve"
// resolves, while a path such as "/var/log is full" in the text stays
// text. Command lines are removed from the rest. A "/note" line makes the
// whole mail internal: the note is its own text plus every other line
// that is not a command, and nothing is left to relay.
func ParseBody(body string) (cmds []Command, rest string) {
	lines := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
	var kept []string
	top := true
	noteAt := -1
	for _, raw := range lines {
		l := strings.TrimSpace(raw)
		if rest, ok := strings.CutPrefix(l, "／"); ok {
			// A full-width slash, typed with a CJK input method.
			l = "/" + rest
		}
		if l == "" {
			if !top {
				kept = append(kept, raw)
			}
			continue
		}
		if !strings.HasPrefix(l, "/") || len(l) < 2 {
			top = false
			kept = append(kept, raw)
			continue
		}
		f := strings.Fields(l)
		first := f[0]
		for i := range f {
			f[i] = width.Fold.String(f[i]) // ２ is 2, ｅｎｇ１＠… an address
		}
		name := strings.ToLower(strings.TrimPrefix(f[0], "/"))
		if !top && !slices.Contains(commandNames, name) {
			kept = append(kept, raw)
			continue
		}
		c := Command{Name: name, Args: f[1:], Text: strings.TrimSpace(strings.TrimPrefix(l, first)), Line: l}
		if name == "note" && noteAt < 0 {
			noteAt = len(cmds)
		}
		cmds = append(cmds, c)
	}
	rest = strings.TrimSpace(strings.Join(kept, "\n"))
	if noteAt >= 0 {
		cmds[noteAt].Text = strings.TrimSpace(strings.Join(nonEmpty(cmds[noteAt].Text, rest), "\n"))
		rest = ""
	}
	return cmds, rest
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Apply checks a staff member's commands against a case and, when all are
// valid, applies them to c and returns the events they cause. When any is
// invalid it returns every problem found, and c must be discarded (all
// commands of a mail apply, or none do).
func Apply(cfg *config.Config, c *Case, actor config.Staff, cmds []Command) ([]Effect, []string) {
	var effects []Effect
	var errs []string
	bad := func(cmd Command, format string, args ...any) {
		errs = append(errs, fmt.Sprintf("%s: %s", cmd.Line, fmt.Sprintf(format, args...)))
	}
	for _, cmd := range cmds {
		switch cmd.Name {
		case "severity":
			if len(cmd.Args) != 1 {
				bad(cmd, "want /severity N")
				continue
			}
			n, err := strconv.Atoi(cmd.Args[0])
			if _, ok := cfg.Severities[n]; err != nil || !ok {
				bad(cmd, "%q is not a configured severity", cmd.Args[0])
				continue
			}
			if c.Status == StatusClosed {
				bad(cmd, "case is closed")
				continue
			}
			if n != c.Severity {
				effects = append(effects, Effect{Kind: EvSeverityChanged, Detail: fmt.Sprintf("%d -> %d", c.Severity, n)})
				c.Severity = n
			}
		case "assign":
			if len(cmd.Args) != 1 {
				bad(cmd, "want /assign EMAIL")
				continue
			}
			s, ok := cfg.StaffByEmail(cmd.Args[0])
			if !ok {
				bad(cmd, "%s is not a staff member", cmd.Args[0])
				continue
			}
			if c.Status == StatusClosed {
				bad(cmd, "case is closed")
				continue
			}
			c.Engineer = s.Email
			effects = append(effects, Effect{Kind: EvAssigned, Detail: s.Email})
		case "priority":
			if len(cmd.Args) != 1 {
				bad(cmd, "want /priority up|down|LEVEL")
				continue
			}
			old := c.Priority
			switch a := strings.ToLower(cmd.Args[0]); {
			case a == "up":
				c.Priority = StepPriority(c.Priority, +1)
			case a == "down":
				c.Priority = StepPriority(c.Priority, -1)
			case slices.Contains(config.Priorities, a):
				c.Priority = a
			default:
				bad(cmd, "%q is not up, down or one of %s", cmd.Args[0], strings.Join(config.Priorities, ", "))
				continue
			}
			effects = append(effects, Effect{Kind: EvPriorityChanged, Detail: old + " -> " + c.Priority})
		case "resolve":
			if c.Status != StatusOpen {
				bad(cmd, "only an open case can be resolved (it is %s)", c.Status)
				continue
			}
			c.Status = StatusResolved
			effects = append(effects, Effect{Kind: EvResolved})
		case "approve":
			if !actor.HasRole("service_centre_manager") {
				bad(cmd, "only a service centre manager can approve")
				continue
			}
			if c.Status != StatusResolved || c.Approved || !c.ConfirmAskedAt.IsZero() {
				bad(cmd, "nothing to approve (the case is %s)", c.Status)
				continue
			}
			c.Approved = true
			effects = append(effects, Effect{Kind: EvApproved})
		case "onsite":
			if c.Status != StatusOpen {
				bad(cmd, "case is %s", c.Status)
				continue
			}
			switch {
			case (len(cmd.Args) == 2 || len(cmd.Args) == 3 && cmd.Args[2] == "--billable") && strings.EqualFold(cmd.Args[0], "dispatch"):
				s, ok := cfg.StaffByEmail(cmd.Args[1])
				if !ok {
					bad(cmd, "%s is not a staff member", cmd.Args[1])
					continue
				}
				billable := len(cmd.Args) == 3
				visit := c.KindOrFault() == KindInstallation || c.KindOrFault() == KindTraining || c.KindOrFault() == KindInspection
				if !visit && OnsiteService(cfg, c) == "" && !billable {
					bad(cmd, "%s has no on-site service (onsite_7x24 or onsite_5x8); to send an engineer anyway, billed, write /onsite dispatch %s --billable", orStr(c.Company, "the customer"), s.Email)
					continue
				}
				c.OnsiteEngineer, c.Billable = s.Email, billable
				detail := s.Email
				if billable {
					detail += " (billable: no on-site service)"
				}
				effects = append(effects, Effect{Kind: EvOnsiteDispatch, Detail: detail})
			case len(cmd.Args) == 1 && strings.EqualFold(cmd.Args[0], "arrived"):
				if c.OnsiteEngineer == "" {
					bad(cmd, "no engineer was dispatched (use /onsite dispatch EMAIL first)")
					continue
				}
				effects = append(effects, Effect{Kind: EvOnsiteArrived, Detail: c.OnsiteEngineer})
			default:
				bad(cmd, "want /onsite dispatch EMAIL or /onsite arrived")
			}
		case "part":
			if cmd.Text == "" {
				bad(cmd, "want /part TEXT")
				continue
			}
			effects = append(effects, Effect{Kind: EvPart, Detail: cmd.Text})
		case "reopen":
			if c.Status == StatusOpen {
				bad(cmd, "case is already open")
				continue
			}
			c.Status = StatusOpen
			effects = append(effects, Effect{Kind: EvReopened, Detail: "by staff"})
		case "close":
			if c.Status == StatusClosed {
				bad(cmd, "case is already closed")
				continue
			}
			c.Status = StatusClosed
			effects = append(effects, Effect{Kind: EvClosed, Detail: "by staff"})
		case "note":
			effects = append(effects, Effect{Kind: EvNote, Detail: cmd.Text})
		case "kind":
			if len(cmd.Args) < 1 || len(cmd.Args) > 2 {
				bad(cmd, "want /kind %s [YYYY-MM-DD]", strings.Join(Kinds, "|"))
				continue
			}
			k := strings.ToLower(cmd.Args[0])
			if !slices.Contains(Kinds, k) {
				bad(cmd, "%q is not one of %s", cmd.Args[0], strings.Join(Kinds, ", "))
				continue
			}
			if c.Status == StatusClosed {
				bad(cmd, "case is closed")
				continue
			}
			if k == KindTraining {
				if cu := cfg.CustomerByCompany(c.Company); cu == nil || !cu.HasService("installation") {
					bad(cmd, "%s", ErrTrainingWithoutInstallation)
					continue
				}
			}
			if len(cmd.Args) == 2 {
				day, err := time.Parse(time.DateOnly, cmd.Args[1])
				if err != nil {
					bad(cmd, "%q is not a date written YYYY-MM-DD", cmd.Args[1])
					continue
				}
				c.PlannedDate, c.RemindedAt = day, time.Time{}
			}
			old := c.KindOrFault()
			c.Kind = k
			effects = append(effects, Effect{Kind: EvKindChanged, Detail: old + " -> " + k})
		case "scope":
			if len(cmd.Args) != 1 || !strings.EqualFold(cmd.Args[0], "consulting") {
				bad(cmd, "want /scope consulting")
				continue
			}
			if c.Status == StatusClosed {
				bad(cmd, "case is closed")
				continue
			}
			old := c.KindOrFault()
			c.Kind = KindConsulting
			effects = append(effects, Effect{Kind: EvKindChanged, Detail: old + " -> " + KindConsulting + " (out of scope)"})
		case "done":
			if c.Status != StatusOpen {
				bad(cmd, "case is %s", c.Status)
				continue
			}
			if k := c.KindOrFault(); k == KindFault || k == KindConsulting {
				bad(cmd, "/done ends a visit or an inspection; a fault is ended with /resolve")
				continue
			}
			effects = append(effects, Effect{Kind: EvDone, Detail: c.KindOrFault() + " done"})
		default:
			bad(cmd, "unknown command /%s (known: /%s)", cmd.Name, strings.Join(commandNames, ", /"))
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return effects, nil
}

// Effect is an event a command causes; the desk records it and acts on it.
type Effect struct {
	Kind   string
	Detail string
}
