package cases

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"helpdeskd/config"
)

// Command is one staff command line (SPEC §4).
type Command struct {
	Name string // severity, assign, priority, resolve, approve, onsite, part, reopen, close, note
	Args []string
	Text string // rest of the line, for part and note
	Line string // as written, for error messages
}

// ParseBody splits a staff mail body into its leading command lines and
// the rest. Commands are lines starting with "/" at the top of the body
// (blank lines between them are allowed); the first other line ends them.
// A "/note" command takes the rest of the body as the note.
func ParseBody(body string) (cmds []Command, rest string) {
	lines := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
	i := 0
	for ; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if l == "" {
			continue
		}
		if !strings.HasPrefix(l, "/") {
			break
		}
		f := strings.Fields(l)
		name := strings.ToLower(strings.TrimPrefix(f[0], "/"))
		text := strings.TrimSpace(strings.TrimPrefix(l, f[0]))
		c := Command{Name: name, Args: f[1:], Text: text, Line: l}
		if name == "note" {
			note := strings.TrimSpace(strings.Join(append([]string{text}, lines[i+1:]...), "\n"))
			c.Text = note
			return append(cmds, c), ""
		}
		cmds = append(cmds, c)
	}
	return cmds, strings.TrimSpace(strings.Join(lines[i:], "\n"))
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
			case len(cmd.Args) == 2 && strings.EqualFold(cmd.Args[0], "dispatch"):
				s, ok := cfg.StaffByEmail(cmd.Args[1])
				if !ok {
					bad(cmd, "%s is not a staff member", cmd.Args[1])
					continue
				}
				c.OnsiteEngineer = s.Email
				effects = append(effects, Effect{Kind: EvOnsiteDispatch, Detail: s.Email})
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
		default:
			bad(cmd, "unknown command /%s (known: /severity, /assign, /priority, /resolve, /approve, /onsite, /part, /reopen, /close, /note)", cmd.Name)
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
