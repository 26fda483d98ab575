package calendar

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind says how a Deadline is counted.
type Kind int

const (
	// WallClock deadlines count real time, whatever the calendar says.
	WallClock Kind = iota
	// WorkingTime deadlines count working time on the calendar.
	WorkingTime
	// WorkingDays deadlines count whole working days on the calendar.
	WorkingDays
)

// Deadline is a time allowance such as "4 working hours", "3 working days"
// or "24h" (wall clock).
type Deadline struct {
	Kind Kind
	// Duration is the allowance of WallClock and WorkingTime deadlines.
	Duration time.Duration
	// Days is the allowance of WorkingDays deadlines.
	Days int
}

// maxDeadlineDays bounds "N working days" (about 270 years of weekdays).
const maxDeadlineDays = 100_000

const deadlineWant = `want working minutes, hours or days, or a duration like "24h"`

// ParseDeadline parses a deadline: "4 working hours", "1 working hour",
// "30 working minutes", "3 working days", "1 working day" (a whole number,
// singular or plural unit), or a Go duration such as "24h", "90m" or "20s",
// which counts wall-clock time. Case and extra spaces do not matter. The
// amount must be positive.
func ParseDeadline(s string) (Deadline, error) {
	f := strings.Fields(strings.ToLower(s))
	switch {
	case len(f) == 0:
		return Deadline{}, fmt.Errorf("empty deadline (%s)", deadlineWant)
	case len(f) == 1:
		d, err := time.ParseDuration(f[0])
		if err != nil {
			return Deadline{}, fmt.Errorf("%q: not a duration (%s)", s, deadlineWant)
		}
		if d <= 0 {
			return Deadline{}, fmt.Errorf("%q: must be positive", s)
		}
		return Deadline{Kind: WallClock, Duration: d}, nil
	case len(f) != 3 || f[1] != "working":
		return Deadline{}, fmt.Errorf("%q: want \"N working hours\", \"N working minutes\", \"N working days\" or a duration like \"24h\"", s)
	}
	var unit time.Duration
	switch f[2] {
	case "minute", "minutes":
		unit = time.Minute
	case "hour", "hours":
		unit = time.Hour
	case "day", "days":
	default:
		return Deadline{}, fmt.Errorf("%q: unknown unit %q (%s)", s, f[2], deadlineWant)
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	switch {
	case err == nil:
	case errors.Is(err, strconv.ErrRange) && strings.HasPrefix(f[0], "-"):
		n = -1 // reported as not positive below
	case errors.Is(err, strconv.ErrRange):
		return Deadline{}, fmt.Errorf("%q: amount %q is too large", s, f[0])
	case isDecimal(f[0]):
		return Deadline{}, fmt.Errorf("%q: amount %q is not a whole number", s, f[0])
	default:
		return Deadline{}, fmt.Errorf("%q: amount %q is not a number", s, f[0])
	}
	if n <= 0 {
		return Deadline{}, fmt.Errorf("%q: amount must be positive", s)
	}
	if unit == 0 {
		if n > maxDeadlineDays {
			return Deadline{}, fmt.Errorf("%q: amount %q is too large (at most %d)", s, f[0], maxDeadlineDays)
		}
		return Deadline{Kind: WorkingDays, Days: int(n)}, nil
	}
	if n > int64(1<<63-1)/int64(unit) {
		return Deadline{}, fmt.Errorf("%q: amount %q is too large", s, f[0])
	}
	return Deadline{Kind: WorkingTime, Duration: time.Duration(n) * unit}, nil
}

// After returns the deadline's instant for something that starts at t:
// t plus the duration for WallClock, c.AddWorking for WorkingTime and
// c.AddWorkingDays for WorkingDays. The result is in c.Location. c may be
// nil for a WallClock deadline (the result is then in UTC).
func (d Deadline) After(c *Calendar, t time.Time) time.Time {
	switch d.Kind {
	case WorkingTime:
		return c.AddWorking(t, d.Duration)
	case WorkingDays:
		return c.AddWorkingDays(t, d.Days)
	default:
		return t.Add(d.Duration).In(c.loc())
	}
}

// String returns the deadline in the form ParseDeadline reads: "4 working
// hours", "1 working day", "24h". A WorkingTime duration that is not a whole
// number of minutes (ParseDeadline never makes one) is written like
// "1m30s of working time", which does not parse.
func (d Deadline) String() string {
	switch d.Kind {
	case WorkingTime:
		switch {
		case d.Duration != 0 && d.Duration%time.Hour == 0:
			return plural(int64(d.Duration/time.Hour), "hour")
		case d.Duration%time.Minute == 0:
			return plural(int64(d.Duration/time.Minute), "minute")
		default:
			return shortDuration(d.Duration) + " of working time"
		}
	case WorkingDays:
		return plural(int64(d.Days), "day")
	default:
		return shortDuration(d.Duration)
	}
}

// isDecimal reports whether s is a plain decimal number such as "1.5".
func isDecimal(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil && !strings.ContainsAny(s, "eEnNxXpP_")
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 working " + unit
	}
	return strconv.FormatInt(n, 10) + " working " + unit + "s"
}

// shortDuration is time.Duration.String without zero trailing units:
// "24h" rather than "24h0m0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
