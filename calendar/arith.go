package calendar

import (
	"math"
	"slices"
	"time"
)

// maxZoneOffset bounds the UTC offset of any time zone, with room to spare
// (real offsets stay within -12h..+14h, historic local mean times within
// ±16h). Every instant that time.Date returns for a local time on date D
// therefore lies within maxZoneOffset of D's wall-clock times read as UTC.
const maxZoneOffset = 27 * time.Hour

// idleDays is how many days in a row without working time, after the last
// holiday or extra working day, a search goes through before it decides
// that the calendar has no working time left. Only a Calendar literal with
// empty spans gets there: New rejects those.
const idleDays = 3700

// maxDayJump bounds how far AddWorkingDays and NextEndOfWorkingDay look
// (about 2.7 million years), so that absurd counts cannot overflow dates.
const maxDayJump = 1_000_000_000

// farFuture is what searches return when the calendar has no working time
// left: 9999-12-31 00:00:00 UTC, in the calendar's location (or t itself
// if t is later still). It is in year 9999 in every zone, so that it still
// formats as RFC 3339.
func farFuture(loc *time.Location, t time.Time) time.Time {
	ff := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	if t.After(ff) {
		return t.In(loc)
	}
	return ff.In(loc)
}

// interval is working time [start, end).
type interval struct{ start, end time.Time }

// dayIntervals appends the working intervals of date d (normalized) to dst,
// in span order, unmerged; none when d is not a working day.
func (c *Calendar) dayIntervals(dst []interval, d Date, loc *time.Location) []interval {
	if !c.isWorkingDay(d) {
		return dst
	}
	for _, sp := range c.Spans {
		start, end := max(sp.Start, 0), min(sp.End, minutesPerDay)
		s := time.Date(d.Year, d.Month, d.Day, 0, start, 0, 0, loc)
		e := time.Date(d.Year, d.Month, d.Day, 0, end, 0, 0, loc)
		if e.After(s) {
			dst = append(dst, interval{s, e})
		}
	}
	return dst
}

// dayEnd returns the end of the working day d: the latest end of its spans
// as time.Date resolves them (end of the day if there are no spans).
func (c *Calendar) dayEnd(d Date, loc *time.Location) time.Time {
	end := time.Date(d.Year, d.Month, d.Day, 24, 0, 0, 0, loc)
	for i, sp := range c.Spans {
		e := time.Date(d.Year, d.Month, d.Day, 0, min(max(sp.End, 0), minutesPerDay), 0, 0, loc)
		if i == 0 || e.After(end) {
			end = e
		}
	}
	return end
}

// earliestStart returns an instant that no working interval of date d or
// any later date starts before.
func earliestStart(d Date) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Add(-maxZoneOffset)
}

// A cursor walks the calendar's working time forward as disjoint intervals
// in time order. It loads day after day and merges the spans of adjacent
// days that overlap (only odd DST resolutions make them overlap), emitting
// an interval only once no later day can overlap it.
type cursor struct {
	c       *Calendar
	loc     *time.Location
	next    Date       // first date not loaded yet
	buf     []interval // loaded, sorted, disjoint, not yet emitted
	weekly  bool       // some weekday is a working day and there are spans
	last    Date       // latest holiday or extra working day
	hasLast bool
	idle    int // days loaded in a row without working time
}

// cursorFrom returns a cursor whose first interval is the first one that
// ends after t (intervals ending earlier may come first; callers skip them).
func (c *Calendar) cursorFrom(t time.Time) *cursor {
	cu := &cursor{
		c:      c,
		loc:    c.loc(),
		weekly: len(c.Spans) > 0 && c.Days != [7]bool{},
		// Intervals of dates up to two days before t's UTC date end
		// before t (see maxZoneOffset).
		next: DateOf(t.UTC()).addDays(-2),
	}
	cu.last, cu.hasLast = c.lastSpecial()
	return cu
}

// exhausted reports whether no date from cu.next on has working time.
func (cu *cursor) exhausted() bool {
	if cu.hasLast && !cu.next.after(cu.last) {
		return false
	}
	return !cu.weekly || cu.idle > idleDays
}

// pop returns the next working interval, or false when the calendar has no
// working time left.
func (cu *cursor) pop() (interval, bool) {
	for {
		if len(cu.buf) > 0 && !cu.buf[0].end.After(earliestStart(cu.next)) {
			return cu.shift(), true
		}
		if cu.exhausted() {
			if len(cu.buf) > 0 {
				return cu.shift(), true
			}
			return interval{}, false
		}
		cu.load()
	}
}

func (cu *cursor) shift() interval {
	iv := cu.buf[0]
	cu.buf = cu.buf[1:]
	return iv
}

// load adds the intervals of date cu.next to the buffer.
func (cu *cursor) load() {
	d := cu.next
	cu.next = d.addDays(1)
	n := len(cu.buf)
	cu.buf = cu.c.dayIntervals(cu.buf, d, cu.loc)
	if len(cu.buf) == n {
		cu.idle++
		return
	}
	cu.idle = 0
	slices.SortFunc(cu.buf, func(a, b interval) int { return a.start.Compare(b.start) })
	merged := cu.buf[:1]
	for _, iv := range cu.buf[1:] {
		top := &merged[len(merged)-1]
		if iv.start.Before(top.end) {
			if iv.end.After(top.end) {
				top.end = iv.end
			}
			continue
		}
		merged = append(merged, iv)
	}
	cu.buf = merged
}

// IsWorking reports whether t is inside a working span (start inclusive,
// end exclusive).
func (c *Calendar) IsWorking(t time.Time) bool {
	cu := c.cursorFrom(t)
	for {
		iv, ok := cu.pop()
		if !ok || iv.start.After(t) {
			return false
		}
		if t.Before(iv.end) {
			return true
		}
	}
}

// AddWorking returns the earliest instant t' >= t such that the working
// time inside [t, t'] is d (SPEC §10). So a deadline can fall exactly at the
// end of a span, never at the start of the next one. It returns t when
// d <= 0. If the calendar has no working time left (only possible when no
// weekday is a working day and the extra working days run out), it returns
// 9999-12-31 00:00:00 UTC. The result is in c.Location.
func (c *Calendar) AddWorking(t time.Time, d time.Duration) time.Time {
	loc := c.loc()
	t = t.In(loc)
	if d <= 0 {
		return t
	}
	cu := c.cursorFrom(t)
	for {
		iv, ok := cu.pop()
		if !ok {
			return farFuture(loc, t)
		}
		if !iv.end.After(t) {
			continue
		}
		s := iv.start
		if s.Before(t) {
			s = t
		}
		if avail := iv.end.Sub(s); avail >= d {
			return s.Add(d).In(loc)
		} else {
			d -= avail
		}
	}
}

// WorkingBetween returns the working time inside [a, b]; 0 if b <= a. A sum
// beyond the range of time.Duration (about 292 years) is capped at its
// maximum.
func (c *Calendar) WorkingBetween(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	var sum time.Duration
	cu := c.cursorFrom(a)
	for {
		iv, ok := cu.pop()
		if !ok || !iv.start.Before(b) {
			return sum
		}
		s, e := iv.start, iv.end
		if s.Before(a) {
			s = a
		}
		if e.After(b) {
			e = b
		}
		if e.After(s) {
			part := e.Sub(s)
			if sum > math.MaxInt64-part {
				return math.MaxInt64
			}
			sum += part
		}
	}
}

// EndOfWorkingDay returns the end of the last span on the day of t (in
// c.Location), and false if that day is not a working day. When time.Date
// resolutions on a DST change day put an earlier span's end later, the
// latest span end counts.
func (c *Calendar) EndOfWorkingDay(t time.Time) (time.Time, bool) {
	loc := c.loc()
	d := DateOf(t.In(loc))
	if !c.isWorkingDay(d) {
		return time.Time{}, false
	}
	return c.dayEnd(d, loc), true
}

// AddWorkingDays returns the end of the last working span of the nth
// working day after the day of t; the day of t does not count (SPEC §10).
// For n <= 0 it returns the end of the day of t if that is a working day,
// even when that end is before t, and else the end of the next working day.
// If the calendar has no such working day (no weekday is a working day and
// the extra working days run out), it returns 9999-12-31 00:00:00 UTC. The
// result is in c.Location.
func (c *Calendar) AddWorkingDays(t time.Time, n int) time.Time {
	loc := c.loc()
	d := DateOf(t.In(loc))
	if n <= 0 {
		if c.isWorkingDay(d) {
			return c.dayEnd(d, loc)
		}
		n = 1
	}
	d, ok := c.workingDayAfter(d, n)
	if !ok {
		return farFuture(loc, t)
	}
	return c.dayEnd(d, loc)
}

// NextEndOfWorkingDay returns the earliest end of a working day that is
// strictly after t, for the end-of-day report. If there is none (no weekday
// is a working day and the extra working days run out), it returns
// 9999-12-31 00:00:00 UTC. The result is in c.Location.
func (c *Calendar) NextEndOfWorkingDay(t time.Time) time.Time {
	loc := c.loc()
	d := DateOf(t.In(loc)).addDays(-1)
	if !c.isWorkingDay(d) {
		var ok bool
		if d, ok = c.workingDayAfter(d, 1); !ok {
			return farFuture(loc, t)
		}
	}
	for {
		if e := c.dayEnd(d, loc); e.After(t) {
			return e
		}
		var ok bool
		if d, ok = c.workingDayAfter(d, 1); !ok {
			return farFuture(loc, t)
		}
	}
}

// workingDayAfter returns the nth (n >= 1) working day after date d, and
// false if there is none. Past the last holiday and extra working day it
// jumps whole weeks.
func (c *Calendar) workingDayAfter(d Date, n int) (Date, bool) {
	last, hasLast := c.lastSpecial()
	perWeek := 0
	for _, w := range c.Days {
		if w {
			perWeek++
		}
	}
	jumped := 0
	for {
		if !hasLast || !last.after(d) {
			// Every date after d follows the weekly pattern.
			if perWeek == 0 {
				return Date{}, false
			}
			if n > perWeek {
				k := (n - 1) / perWeek
				if k > (maxDayJump-jumped)/7 {
					return Date{}, false
				}
				d = d.addDays(7 * k)
				jumped += 7 * k
				n -= k * perWeek
			}
		}
		d = d.addDays(1)
		jumped++
		if jumped > maxDayJump {
			return Date{}, false
		}
		if c.isWorkingDay(d) {
			n--
			if n == 0 {
				return d, true
			}
		}
	}
}
