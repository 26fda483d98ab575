package calendar

import "time"

// FirstWorkingMinute returns the start of the first working span of date
// d, or of the next working day when d is not one (SPEC §11.7), and that
// day. If there is no working day left it returns 9999-12-31 UTC.
func (c *Calendar) FirstWorkingMinute(d Date) (time.Time, Date) {
	loc := c.loc()
	d = d.normalize()
	if !c.isWorkingDay(d) {
		next, ok := c.workingDayAfter(d, 1)
		if !ok {
			return farFuture(loc, time.Time{}), d
		}
		d = next
	}
	iv := c.dayIntervals(nil, d, loc)
	if len(iv) == 0 {
		return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc), d
	}
	first := iv[0].start
	for _, x := range iv[1:] {
		if x.start.Before(first) {
			first = x.start
		}
	}
	return first, d
}

// PrevWorkingDay returns the last working day before date d, and false if
// there is none within a year.
func (c *Calendar) PrevWorkingDay(d Date) (Date, bool) {
	d = d.normalize()
	for i := 0; i < 366; i++ {
		d = d.addDays(-1)
		if c.isWorkingDay(d) {
			return d, true
		}
	}
	return Date{}, false
}

// DateIn returns the calendar date of t in the calendar's time zone.
func (c *Calendar) DateIn(t time.Time) Date { return DateOf(t.In(c.loc())) }

// EndOf returns the end of the last working span of date d (the end of
// the day if d has no spans).
func (c *Calendar) EndOf(d Date) time.Time { return c.dayEnd(d.normalize(), c.loc()) }

// AddDays returns the date n days after d.
func (d Date) AddDays(n int) Date { return d.addDays(n) }

// Midnight returns 00:00 UTC of d, the form in which civil dates are
// stored.
func (d Date) Midnight() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }
