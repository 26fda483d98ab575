// Package calendar owns working calendars and deadline arithmetic: which
// instants are working time on a plan's calendar (time zone, working days,
// daily working spans, holidays and extra working days), and "N working
// hours/minutes/days after T" computed exactly on it (SPEC §5, §10
// "Deadline arithmetic (exact)"). It also parses the deadline strings of the
// configuration ("4 working hours", "3 working days", "24h").
//
// It does not own which deadline applies to a case (package cases), reading
// the configuration file (package config) or the clock: every function takes
// the instant it works from.
//
// # Model
//
// All computations happen on the calendar's local wall clock. On a working
// day D, a span [Start, End) is the real interval from the instant
// time.Date(D, Start) to the instant time.Date(D, End) in the calendar's
// location; End 24:00 is the next local midnight. Working time is real
// elapsed time, so on a DST change day a span that contains the skipped
// hour is an hour shorter and a span that contains the repeated hour is an
// hour longer than its wall-clock length.
//
// A span boundary that falls on a local time that does not exist (inside a
// spring-forward gap) or exists twice (inside a fall-back hour) is resolved
// exactly as time.Date resolves it; Go documents that choice as not
// guaranteed. With Go 1.26: in America/New_York 02:30 on 2026-03-08 becomes
// 01:30 EST and 01:30 on 2026-11-01 is the first (EDT) one; in Europe/Berlin
// 02:30 on 2026-03-29 becomes 03:30 CEST and 02:30 on 2026-10-25 is the
// second (CET) one. A span whose resolved end is not after its resolved
// start is empty that day, and spans that overlap after resolution count
// once (the working time of a day is the union of its spans).
package calendar

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// minutesPerDay is the number of minutes from one local midnight to the
// next by the wall clock.
const minutesPerDay = 24 * 60

// Span is a working span within a day, in minutes from local midnight,
// Start < End <= 1440.
type Span struct{ Start, End int }

// ParseSpan parses a span written "HH:MM-HH:MM", such as "09:00-12:00" or
// "00:00-24:00". 24:00 is allowed as an end only.
func ParseSpan(s string) (Span, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Span{}, fmt.Errorf("%q: want HH:MM-HH:MM, like \"09:00-12:00\"", s)
	}
	start, err := parseClock(strings.TrimSpace(from))
	if err != nil {
		return Span{}, fmt.Errorf("%q: start: %w", s, err)
	}
	end, err := parseClock(strings.TrimSpace(to))
	if err != nil {
		return Span{}, fmt.Errorf("%q: end: %w", s, err)
	}
	sp := Span{Start: start, End: end}
	if err := sp.check(); err != nil {
		return Span{}, fmt.Errorf("%q: %w", s, err)
	}
	return sp, nil
}

// parseClock parses "HH:MM" (or "H:MM") into minutes from midnight,
// 00:00 to 24:00.
func parseClock(s string) (int, error) {
	hs, ms, ok := strings.Cut(s, ":")
	if !ok || len(hs) < 1 || len(hs) > 2 || len(ms) != 2 || !digits(hs) || !digits(ms) {
		return 0, fmt.Errorf("%q is not a time like 09:00", s)
	}
	h, _ := strconv.Atoi(hs)
	m, _ := strconv.Atoi(ms)
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%q is not a time between 00:00 and 24:00", s)
	}
	return h*60 + m, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// check reports whether s is a valid span: 0 <= Start < End <= 1440.
func (s Span) check() error {
	switch {
	case s.Start < 0 || s.Start >= minutesPerDay:
		return fmt.Errorf("start %s is not between 00:00 and 23:59", clock(s.Start))
	case s.End <= 0 || s.End > minutesPerDay:
		return fmt.Errorf("end %s is not between 00:01 and 24:00", clock(s.End))
	case s.End <= s.Start:
		return fmt.Errorf("end %s is not after start %s", clock(s.End), clock(s.Start))
	}
	return nil
}

// String returns the span as "HH:MM-HH:MM", the form ParseSpan reads.
func (s Span) String() string { return clock(s.Start) + "-" + clock(s.End) }

func clock(m int) string {
	if m < 0 {
		return fmt.Sprintf("-%02d:%02d", -m/60, -m%60)
	}
	return fmt.Sprintf("%02d:%02d", m/60, m%60)
}

// Date is a civil date.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses a date written "YYYY-MM-DD", such as "2026-10-01".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("%q: want a real date written YYYY-MM-DD, like \"2026-10-01\"", s)
	}
	return DateOf(t), nil
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// String returns the date as "YYYY-MM-DD", the form ParseDate reads.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// noon returns noon UTC of d; it normalizes d (2026-02-30 is 2026-03-02).
func (d Date) noon() time.Time { return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC) }

// addDays returns the date n days after d (before d when n < 0).
func (d Date) addDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// after reports whether d is a later date than e.
func (d Date) after(e Date) bool {
	if d.Year != e.Year {
		return d.Year > e.Year
	}
	if d.Month != e.Month {
		return d.Month > e.Month
	}
	return d.Day > e.Day
}

// Calendar is a working calendar. Build one with New, which validates it; a
// Calendar literal works too, and then a nil Location means UTC.
type Calendar struct {
	// Name is the calendar's name in the configuration.
	Name string
	// Location is the time zone whose wall clock the spans are read in.
	Location *time.Location
	// Days tells, indexed by time.Weekday, which weekdays are working days.
	Days [7]bool
	// Spans are the working spans of every working day, sorted and
	// non-overlapping.
	Spans []Span
	// Holidays are dates that are not working days.
	Holidays map[Date]bool
	// Extra are extra working days (weekend days that are worked), with the
	// normal spans.
	Extra map[Date]bool
}

// New validates a calendar and returns it. It is an error when the location
// is nil, there are no spans, a span is invalid, the spans are not sorted
// or overlap (touching is fine), a date is both a holiday and an extra
// working day, or there is neither a working weekday nor an extra working
// day. The error names every problem found.
func New(name string, loc *time.Location, days []time.Weekday, spans []Span, holidays, extra []Date) (*Calendar, error) {
	var problems []string
	if loc == nil {
		problems = append(problems, "no time zone")
	}
	c := &Calendar{
		Name:     name,
		Location: loc,
		Spans:    append([]Span(nil), spans...),
		Holidays: make(map[Date]bool, len(holidays)),
		Extra:    make(map[Date]bool, len(extra)),
	}
	for _, d := range days {
		if d < time.Sunday || d > time.Saturday {
			problems = append(problems, fmt.Sprintf("weekday %d out of range", int(d)))
			continue
		}
		c.Days[d] = true
	}
	if len(spans) == 0 {
		problems = append(problems, "no working hours")
	}
	for i, sp := range spans {
		if err := sp.check(); err != nil {
			problems = append(problems, fmt.Sprintf("hours %s: %v", sp, err))
			continue
		}
		if i > 0 && spans[i-1].check() == nil && sp.Start < spans[i-1].End {
			problems = append(problems, fmt.Sprintf("hours %s and %s overlap or are out of order", spans[i-1], sp))
		}
	}
	for _, d := range holidays {
		c.Holidays[d.normalize()] = true
	}
	for _, d := range extra {
		d = d.normalize()
		if c.Holidays[d] {
			problems = append(problems, fmt.Sprintf("date %s is both a holiday and an extra working day", d))
		}
		c.Extra[d] = true
	}
	if c.Days == [7]bool{} && len(c.Extra) == 0 {
		problems = append(problems, "no working days and no extra working days")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("calendar %q: %s", name, strings.Join(problems, "; "))
	}
	return c, nil
}

// normalize returns d as a real date (2026-02-30 is 2026-03-02).
func (d Date) normalize() Date { return DateOf(d.noon()) }

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "sunday": time.Sunday,
	"mon": time.Monday, "monday": time.Monday,
	"tue": time.Tuesday, "tues": time.Tuesday, "tuesday": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday,
	"thu": time.Thursday, "thur": time.Thursday, "thurs": time.Thursday, "thursday": time.Thursday,
	"fri": time.Friday, "friday": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday,
}

// ParseWeekday parses a weekday: "mon" to "sun" or the full English name,
// case-insensitive.
func ParseWeekday(s string) (time.Weekday, error) {
	if d, ok := weekdays[strings.ToLower(strings.TrimSpace(s))]; ok {
		return d, nil
	}
	return 0, fmt.Errorf("unknown weekday %q (want mon, tue, wed, thu, fri, sat or sun)", s)
}

// Always returns the built-in calendar "always": every day is a working day
// from 00:00 to 24:00 UTC. Each call returns a new Calendar.
func Always() *Calendar {
	return &Calendar{
		Name:     "always",
		Location: time.UTC,
		Days:     [7]bool{true, true, true, true, true, true, true},
		Spans:    []Span{{Start: 0, End: minutesPerDay}},
		Holidays: map[Date]bool{},
		Extra:    map[Date]bool{},
	}
}

// IsWorkingDay reports whether d is a working day: extra working days are,
// holidays are not, and any other date is when its weekday is.
func (c *Calendar) IsWorkingDay(d Date) bool { return c.isWorkingDay(d.normalize()) }

// isWorkingDay is IsWorkingDay for a normalized date.
func (c *Calendar) isWorkingDay(d Date) bool {
	if c.Extra[d] {
		return true
	}
	if c.Holidays[d] {
		return false
	}
	return c.Days[d.noon().Weekday()]
}

// loc returns the calendar's location, UTC when it (or c) is nil.
func (c *Calendar) loc() *time.Location {
	if c == nil || c.Location == nil {
		return time.UTC
	}
	return c.Location
}

// lastSpecial returns the latest holiday or extra working day, and whether
// there is any. After it, every week has the same working days.
func (c *Calendar) lastSpecial() (Date, bool) {
	var last Date
	found := false
	for _, m := range []map[Date]bool{c.Holidays, c.Extra} {
		for d := range m {
			if !found || d.after(last) {
				last, found = d, true
			}
		}
	}
	return last, found
}
