package calendar

import (
	"testing"
	"time"
)

// fuzzCalendar builds a calendar from fuzz input, or nil when New rejects it.
func fuzzCalendar(t *testing.T, zone, days uint8, s1, e1, s2, e2 uint16, hol, extra int16) *Calendar {
	locs, err := propLocs()
	if err != nil {
		t.Fatal(err)
	}
	loc := locs[int(zone)%len(locs)]
	var wds []time.Weekday
	for wd := range 7 {
		if days&(1<<wd) != 0 {
			wds = append(wds, time.Weekday(wd))
		}
	}
	spans := []Span{{int(s1) % 1441, int(e1) % 1441}}
	if s2 != e2 {
		spans = append(spans, Span{int(s2) % 1441, int(e2) % 1441})
	}
	base := Date{2026, time.January, 1}
	var hols, extras []Date
	if hol != 0 {
		hols = append(hols, base.addDays(int(hol)%1200))
	}
	if extra != 0 {
		extras = append(extras, base.addDays(int(extra)%1200))
	}
	c, err := New("fuzz", loc, wds, spans, hols, extras)
	if err != nil {
		return nil
	}
	return c
}

func FuzzAddWorking(f *testing.F) {
	// zone, days, spans, holiday and extra day (days from 2026-01-01),
	// start (seconds from 2026-01-01 UTC), duration (seconds).
	f.Add(uint8(1), uint8(0b0111110), uint16(540), uint16(720), uint16(810), uint16(1080), int16(273), int16(282), int64(0), int64(48*3600))
	f.Add(uint8(2), uint8(0b1111111), uint16(60), uint16(240), uint16(0), uint16(0), int16(0), int16(0), int64(86*86400), int64(3*3600))
	f.Add(uint8(2), uint8(0b1111111), uint16(60), uint16(150), uint16(180), uint16(240), int16(0), int16(0), int64(86*86400), int64(5400))
	f.Add(uint8(3), uint8(0b1111111), uint16(0), uint16(105), uint16(135), uint16(180), int16(0), int16(0), int64(65*86400), int64(7200))
	f.Add(uint8(3), uint8(0b0000001), uint16(0), uint16(1440), uint16(0), uint16(0), int16(303), int16(0), int64(300*86400), int64(100*3600))
	f.Add(uint8(0), uint8(0), uint16(540), uint16(1080), uint16(0), uint16(0), int16(0), int16(282), int64(200*86400), int64(20*3600))
	f.Fuzz(func(t *testing.T, zone, days uint8, s1, e1, s2, e2 uint16, hol, extra int16, startSec, durSec int64) {
		c := fuzzCalendar(t, zone, days, s1, e1, s2, e2, hol, extra)
		if c == nil {
			return
		}
		// Starts within about 30 years of 2026, durations up to a week.
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(startSec%(1<<30)) * time.Second)
		d := time.Duration(durSec%(7*86400)) * time.Second
		if d < 0 {
			d = -d
		}

		got := c.AddWorking(start, d)
		if got.Location() != c.Location {
			t.Fatalf("result in %v", got.Location())
		}
		if got.Before(start) {
			t.Fatalf("AddWorking(%v, %v) = %v is before the start", start, d, got)
		}
		if d == 0 {
			if !got.Equal(start) {
				t.Fatalf("AddWorking(%v, 0) = %v", start, got)
			}
			return
		}
		if got.Equal(never) { // no working time left: only without working weekdays
			if c.Days != [7]bool{} {
				t.Fatalf("AddWorking(%v, %v) found no working time in a weekly calendar", start, d)
			}
			if w := c.WorkingBetween(start, got); w >= d {
				t.Fatalf("gave up, but WorkingBetween(start, end) = %v >= %v", w, d)
			}
			return
		}
		if w := c.WorkingBetween(start, got); w != d {
			t.Fatalf("WorkingBetween(%v, AddWorking(start, %v) = %v) = %v", start, d, got, w)
		}
		// Earliest: the working time was being used up right before the result.
		if !c.IsWorking(got.Add(-time.Nanosecond)) {
			t.Fatalf("AddWorking(%v, %v) = %v, but the instant before it is not working", start, d, got)
		}
		// Additive.
		d1 := d / 3
		if mid := c.AddWorking(start, d1); !c.AddWorking(mid, d-d1).Equal(got) {
			t.Fatalf("AddWorking(AddWorking(%v, %v), %v) = %v, want %v", start, d1, d-d1, c.AddWorking(mid, d-d1), got)
		}
		// Working days: the end of a working day, after the start's day.
		n := int(durSec%20+20) % 20
		end := c.AddWorkingDays(start, n)
		if !end.Equal(never) {
			if e, ok := c.EndOfWorkingDay(end.Add(-time.Nanosecond)); !ok || !e.Equal(end) {
				t.Fatalf("AddWorkingDays(%v, %d) = %v is not the end of a working day (%v, %v)", start, n, end, e, ok)
			}
			if n > 0 && !DateOf(end.Add(-time.Nanosecond)).after(DateOf(start.In(c.Location))) {
				t.Fatalf("AddWorkingDays(%v, %d) = %v is not after the start's day", start, n, end)
			}
		}
		if next := c.NextEndOfWorkingDay(start); !next.After(start) {
			t.Fatalf("NextEndOfWorkingDay(%v) = %v", start, next)
		}
	})
}

func FuzzParseDeadline(f *testing.F) {
	for _, s := range []string{
		"4 working hours", "1 working hour", "30 working minutes", "3 working days",
		"1 working day", "24h", "90m", "20s", "1h30m", "4 working weeks", "-1 working day",
		"1.5 working hours", "0s", "", "  2  WORKING  Days ", "9223372036854775807 working minutes",
		"1e3 working hours", "+4 working hours", "300ms", "1.5h",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDeadline(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("ParseDeadline(%q): empty error", s)
			}
			return
		}
		if d.Kind == WorkingDays && d.Days <= 0 || d.Kind != WorkingDays && d.Duration <= 0 {
			t.Fatalf("ParseDeadline(%q) = %+v, not positive", s, d)
		}
		back, err := ParseDeadline(d.String())
		if err != nil || back != d {
			t.Fatalf("ParseDeadline(%q) = %+v; String %q parses as %+v, %v", s, d, d.String(), back, err)
		}
	})
}
