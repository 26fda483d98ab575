package calendar

import (
	"testing"
	"time"
)

// Test calendars. 2026-09-14 is a Monday. The Shanghai office has the
// Chinese National Day holidays 2026-10-01..07 (Thursday to Wednesday) and
// two worked weekend days, Sunday 2026-09-27 and Saturday 2026-10-10.
const (
	officeDays = "mon tue wed thu fri"
	officeHols = "2026-10-01 2026-10-02 2026-10-05 2026-10-06 2026-10-07"
	officeXtra = "2026-09-27 2026-10-10"
)

type calendars struct {
	office   *Calendar // Asia/Shanghai, 09:00-12:00 13:30-18:00 (7.5 h a day)
	berlin   *Calendar // Europe/Berlin office, mon-fri 09:00-17:00
	berNight *Calendar // Europe/Berlin, every day 01:00-04:00 (over both DST changes)
	berGap   *Calendar // Europe/Berlin, every day 02:30-05:00 (starts in the skipped hour)
	ny       *Calendar // America/New_York office, mon-fri 09:00-17:00
	ny24     *Calendar // America/New_York, always open on local days
	nyNight  *Calendar // America/New_York, every day 00:00-03:00 and 22:00-24:00
	berOver  *Calendar // Europe/Berlin, every day 01:00-02:30 03:00-04:00 (overlap on 2026-03-29)
	nyOver   *Calendar // America/New_York, every day 00:00-01:45 02:15-03:00 (overlap on 2026-03-08)
	always   *Calendar
	onlyXtra *Calendar // no working weekday, one extra working day
}

func testCalendars(t testing.TB) calendars {
	all := "mon tue wed thu fri sat sun"
	return calendars{
		office:   mustCal(t, "Asia/Shanghai", officeDays, "09:00-12:00 13:30-18:00", officeHols, officeXtra),
		berlin:   mustCal(t, "Europe/Berlin", officeDays, "09:00-17:00", "", ""),
		berNight: mustCal(t, "Europe/Berlin", all, "01:00-04:00", "", ""),
		berGap:   mustCal(t, "Europe/Berlin", all, "02:30-05:00", "", ""),
		ny:       mustCal(t, "America/New_York", officeDays, "09:00-17:00", "", ""),
		ny24:     mustCal(t, "America/New_York", all, "00:00-24:00", "", ""),
		nyNight:  mustCal(t, "America/New_York", all, "00:00-03:00 22:00-24:00", "", ""),
		berOver:  mustCal(t, "Europe/Berlin", all, "01:00-02:30 03:00-04:00", "", ""),
		nyOver:   mustCal(t, "America/New_York", all, "00:00-01:45 02:15-03:00", "", ""),
		always:   Always(),
		onlyXtra: mustCal(t, "Asia/Shanghai", "", "09:00-12:00 13:30-18:00", "", "2026-10-10"),
	}
}

func checkTime(t *testing.T, c *Calendar, got time.Time, want string) {
	t.Helper()
	w := at(t, c.Location, want)
	if !got.Equal(w) {
		t.Errorf("got %s, want %s", got.Format(time.RFC3339), w.Format(time.RFC3339))
	}
	if got.Location() != c.Location {
		t.Errorf("result in %v, want %v", got.Location(), c.Location)
	}
	if _, err := got.MarshalJSON(); err != nil {
		t.Errorf("result does not encode as JSON: %v", err)
	}
}

func TestAddWorking(t *testing.T) {
	cs := testCalendars(t)
	tests := []struct {
		name  string
		c     *Calendar
		start string
		d     time.Duration
		want  string
	}{
		{"inside span", cs.office, "2026-09-15 10:00", time.Hour, "2026-09-15 11:00"},
		{"zero", cs.office, "2026-09-19 03:17", 0, "2026-09-19 03:17"},
		{"negative", cs.office, "2026-09-15 10:00", -time.Hour, "2026-09-15 10:00"},
		{"across lunch", cs.office, "2026-09-15 11:00", 2 * time.Hour, "2026-09-15 14:30"},
		{"exactly at span end", cs.office, "2026-09-15 11:00", time.Hour, "2026-09-15 12:00"},
		{"exactly at day end", cs.office, "2026-09-15 17:00", time.Hour, "2026-09-15 18:00"},
		{"start at span end", cs.office, "2026-09-15 12:00", time.Hour, "2026-09-15 14:30"},
		{"start in lunch", cs.office, "2026-09-15 12:30", time.Hour, "2026-09-15 14:30"},
		{"start at span start", cs.office, "2026-09-15 13:30", 4*time.Hour + 30*time.Minute, "2026-09-15 18:00"},
		{"start before first span", cs.office, "2026-09-15 07:00", time.Hour, "2026-09-15 10:00"},
		{"start after last span", cs.office, "2026-09-15 20:00", time.Hour, "2026-09-16 10:00"},
		{"over night", cs.office, "2026-09-15 17:00", 2 * time.Hour, "2026-09-16 10:00"},
		{"over night to span end", cs.office, "2026-09-15 17:00", 4 * time.Hour, "2026-09-16 12:00"},
		{"sub-minute", cs.office, "2026-09-15 11:59", 90 * time.Second, "2026-09-15T13:30:30+08:00"},
		{"over weekend", cs.office, "2026-09-18 17:00", 2 * time.Hour, "2026-09-21 10:00"},
		{"start on weekend", cs.office, "2026-09-19 10:00", 30 * time.Minute, "2026-09-21 09:30"},
		{"into extra sunday", cs.office, "2026-09-25 17:00", 2 * time.Hour, "2026-09-27 10:00"},
		{"over holidays", cs.office, "2026-09-30 17:00", 2 * time.Hour, "2026-10-08 10:00"},
		{"into extra saturday", cs.office, "2026-10-09 17:00", 2 * time.Hour, "2026-10-10 10:00"},
		{"start on holiday", cs.office, "2026-10-01 10:00", time.Hour, "2026-10-08 10:00"},
		// 5 days of 7.5 h = 37.5 h to Friday evening, 7.5 h more to Monday
		// evening, 3 h more end exactly at Tuesday's 12:00.
		{"48 working hours", cs.office, "2026-09-14 09:00", 48 * time.Hour, "2026-09-22 12:00"},
		{"start in UTC", cs.office, "2026-09-15T01:00:00Z", time.Hour, "2026-09-15 10:00"},

		{"berlin over spring weekend", cs.berlin, "2026-03-27 16:00", 2 * time.Hour, "2026-03-30 10:00"},
		{"berlin over autumn weekend", cs.berlin, "2026-10-23 16:00", 2 * time.Hour, "2026-10-26 10:00"},
		// 01:00-04:00 on 2026-03-29 is 2 real hours (02:00-03:00 is skipped).
		{"berlin span over skipped hour", cs.berNight, "2026-03-29 01:00", 2 * time.Hour, "2026-03-29 04:00"},
		{"berlin span over skipped hour, more", cs.berNight, "2026-03-29 01:00", 150 * time.Minute, "2026-03-30 01:30"},
		{"berlin skipped hour, inside", cs.berNight, "2026-03-29 01:30", time.Hour, "2026-03-29T03:30:00+02:00"},
		// 01:00-04:00 on 2026-10-25 is 4 real hours (02:00-03:00 twice).
		{"berlin span over repeated hour", cs.berNight, "2026-10-25 01:00", 3 * time.Hour, "2026-10-25T03:00:00+01:00"},
		{"berlin repeated hour twice", cs.berNight, "2026-10-25 01:00", 90 * time.Minute, "2026-10-25T02:30:00+02:00"},
		{"berlin repeated hour second time", cs.berNight, "2026-10-25 01:00", 150 * time.Minute, "2026-10-25T02:30:00+01:00"},
		{"berlin span over repeated hour, all", cs.berNight, "2026-10-25 01:00", 4 * time.Hour, "2026-10-25T04:00:00+01:00"},
		{"berlin span over repeated hour, more", cs.berNight, "2026-10-25 01:00", 5 * time.Hour, "2026-10-26 02:00"},
		// 02:30 does not exist on 2026-03-29; time.Date makes it 03:30 CEST.
		{"berlin span starting in skipped hour", cs.berGap, "2026-03-29 00:00", time.Hour, "2026-03-29T04:30:00+02:00"},
		{"berlin span starting in skipped hour, all", cs.berGap, "2026-03-29 00:00", 90 * time.Minute, "2026-03-29T05:00:00+02:00"},
		{"berlin span starting in skipped hour, more", cs.berGap, "2026-03-29 00:00", 2 * time.Hour, "2026-03-30 03:00"},

		// 02:30 becomes 03:30 CEST, so 01:00-02:30 and 03:00-04:00 overlap
		// by half an hour and count once: 2 real hours.
		{"berlin spans overlapping after resolution", cs.berOver, "2026-03-29 01:00", 2 * time.Hour, "2026-03-29 04:00"},
		{"berlin spans overlapping after resolution, more", cs.berOver, "2026-03-29 01:00", 150 * time.Minute, "2026-03-30 01:30"},
		// 02:15 becomes 01:15 EST, so 00:00-01:45 and 02:15-03:00 overlap.
		{"new york spans overlapping after resolution", cs.nyOver, "2026-03-08 00:00", 2 * time.Hour, "2026-03-08 03:00"},
		{"new york spans overlapping after resolution, more", cs.nyOver, "2026-03-08 00:00", 150 * time.Minute, "2026-03-09 00:30"},

		{"new york over spring weekend", cs.ny, "2026-03-06 16:00", 2 * time.Hour, "2026-03-09 10:00"},
		{"new york over autumn weekend", cs.ny, "2026-10-30 16:00", 2 * time.Hour, "2026-11-02 10:00"},
		{"new york 24h over spring change", cs.ny24, "2026-03-07 12:00", 24 * time.Hour, "2026-03-08 13:00"},
		{"new york 24h over autumn change", cs.ny24, "2026-10-31 12:00", 24 * time.Hour, "2026-11-01 11:00"},
		// 00:00-03:00 on 2026-03-08 is 2 real hours, on 2026-11-01 4.
		{"new york night over skipped hour", cs.nyNight, "2026-03-08 00:00", 2 * time.Hour, "2026-03-08 03:00"},
		{"new york night over skipped hour, more", cs.nyNight, "2026-03-08 00:00", 3 * time.Hour, "2026-03-08 23:00"},
		{"new york night over repeated hour", cs.nyNight, "2026-11-01 00:00", 2 * time.Hour, "2026-11-01T01:00:00-05:00"},
		{"new york night over repeated hour, all", cs.nyNight, "2026-11-01 00:00", 4 * time.Hour, "2026-11-01 03:00"},
		{"new york night over repeated hour, more", cs.nyNight, "2026-11-01 00:00", 5 * time.Hour, "2026-11-01 23:00"},
		{"new york night from evening", cs.nyNight, "2026-10-31 23:00", 3 * time.Hour, "2026-11-01T01:00:00-05:00"},

		{"always", cs.always, "2026-11-26T09:00:00+08:00", 4 * time.Hour, "2026-11-26T05:00:00Z"},
		{"always over days", cs.always, "2026-11-26T09:00:00Z", 48 * time.Hour, "2026-11-28T09:00:00Z"},
		{"always over new york change", cs.always, "2026-03-07T12:00:00-05:00", 24 * time.Hour, "2026-03-08T17:00:00Z"},

		{"only extra day", cs.onlyXtra, "2026-09-01 00:00", 2 * time.Hour, "2026-10-10 11:00"},
		{"only extra day, all of it", cs.onlyXtra, "2026-10-10 10:00", 6*time.Hour + 30*time.Minute, "2026-10-10 18:00"},
		{"only extra day, used up", cs.onlyXtra, "2026-10-10 17:00", 2 * time.Hour, "9999-12-31T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := at(t, tt.c.Location, tt.start)
			got := tt.c.AddWorking(start, tt.d)
			checkTime(t, tt.c, got, tt.want)
			if tt.d > 0 && !got.Equal(never) {
				if w := tt.c.WorkingBetween(start, got); w != tt.d {
					t.Errorf("WorkingBetween(start, result) = %v, want %v", w, tt.d)
				}
			}
		})
	}
}

func TestWorkingBetween(t *testing.T) {
	cs := testCalendars(t)
	tests := []struct {
		name string
		c    *Calendar
		a, b string
		want time.Duration
	}{
		{"inside span", cs.office, "2026-09-15 10:00", "2026-09-15 11:15", 75 * time.Minute},
		{"over lunch", cs.office, "2026-09-15 11:00", "2026-09-15 14:00", 90 * time.Minute},
		{"a day", cs.office, "2026-09-15 00:00", "2026-09-16 00:00", 450 * time.Minute},
		{"a week", cs.office, "2026-09-14 00:00", "2026-09-21 00:00", 5 * 450 * time.Minute},
		{"holiday week with extra saturday", cs.office, "2026-10-05 00:00", "2026-10-12 00:00", 3 * 450 * time.Minute},
		{"weekend", cs.office, "2026-09-19 00:00", "2026-09-21 00:00", 0},
		{"equal", cs.office, "2026-09-15 10:00", "2026-09-15 10:00", 0},
		{"reversed", cs.office, "2026-09-15 11:00", "2026-09-15 10:00", 0},
		{"berlin skipped hour day", cs.berNight, "2026-03-29 00:00", "2026-03-30 00:00", 2 * time.Hour},
		{"berlin repeated hour day", cs.berNight, "2026-10-25 00:00", "2026-10-26 00:00", 4 * time.Hour},
		{"berlin span starting in skipped hour", cs.berGap, "2026-03-29 00:00", "2026-03-30 00:00", 90 * time.Minute},
		{"berlin span starting in repeated hour", cs.berGap, "2026-10-25 00:00", "2026-10-26 00:00", 150 * time.Minute},
		{"berlin overlapping spans", cs.berOver, "2026-03-29 00:00", "2026-03-30 00:00", 2 * time.Hour},
		{"berlin overlapping spans, normal day", cs.berOver, "2026-03-30 00:00", "2026-03-31 00:00", 150 * time.Minute},
		{"new york overlapping spans", cs.nyOver, "2026-03-08 00:00", "2026-03-09 00:00", 2 * time.Hour},
		{"new york spring day", cs.ny24, "2026-03-08 00:00", "2026-03-09 00:00", 23 * time.Hour},
		{"new york autumn day", cs.ny24, "2026-11-01 00:00", "2026-11-02 00:00", 25 * time.Hour},
		{"new york night spring", cs.nyNight, "2026-03-08 00:00", "2026-03-09 00:00", 4 * time.Hour},
		{"new york night autumn", cs.nyNight, "2026-11-01 00:00", "2026-11-02 00:00", 6 * time.Hour},
		{"always", cs.always, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", 365 * 24 * time.Hour},
		{"only extra day", cs.onlyXtra, "2000-01-01 00:00", "3000-01-01 00:00", 450 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.c.WorkingBetween(at(t, tt.c.Location, tt.a), at(t, tt.c.Location, tt.b))
			if got != tt.want {
				t.Errorf("WorkingBetween = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIsWorking(t *testing.T) {
	cs := testCalendars(t)
	tests := []struct {
		name string
		c    *Calendar
		t    string
		want bool
	}{
		{"span start", cs.office, "2026-09-15 09:00", true},
		{"before span", cs.office, "2026-09-15 08:59", false},
		{"last instant of span", cs.office, "2026-09-15T11:59:59.999999999+08:00", true},
		{"span end", cs.office, "2026-09-15 12:00", false},
		{"lunch", cs.office, "2026-09-15 13:29", false},
		{"after lunch", cs.office, "2026-09-15 13:30", true},
		{"day end", cs.office, "2026-09-15 18:00", false},
		{"saturday", cs.office, "2026-09-19 10:00", false},
		{"holiday", cs.office, "2026-10-01 10:00", false},
		{"extra saturday", cs.office, "2026-10-10 10:00", true},
		{"given in UTC", cs.office, "2026-09-15T02:00:00Z", true},
		{"berlin first 02:30", cs.berNight, "2026-10-25T02:30:00+02:00", true},
		{"berlin second 02:30", cs.berNight, "2026-10-25T02:30:00+01:00", true},
		{"berlin 03:30 after skip", cs.berNight, "2026-03-29T03:30:00+02:00", true},
		{"berlin gap span before resolved start", cs.berGap, "2026-03-29T03:15:00+02:00", false},
		{"berlin gap span after resolved start", cs.berGap, "2026-03-29T03:30:00+02:00", true},
		{"berlin overlap", cs.berOver, "2026-03-29T03:15:00+02:00", true},
		{"new york overlap", cs.nyOver, "2026-03-08T01:30:00-05:00", true},
		{"new york late evening", cs.nyNight, "2026-03-07 23:59", true},
		{"new york midnight", cs.nyNight, "2026-03-08 00:00", true},
		{"always", cs.always, "2026-03-08T02:30:00-05:00", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.IsWorking(at(t, tt.c.Location, tt.t)); got != tt.want {
				t.Errorf("IsWorking(%s) = %v", tt.t, got)
			}
		})
	}
}

func TestAddWorkingDays(t *testing.T) {
	cs := testCalendars(t)
	tests := []struct {
		name  string
		c     *Calendar
		start string
		n     int
		want  string
	}{
		{"next day", cs.office, "2026-09-14 10:00", 1, "2026-09-15 18:00"},
		{"day of t does not count, early", cs.office, "2026-09-14 01:00", 1, "2026-09-15 18:00"},
		{"day of t does not count, late", cs.office, "2026-09-14 23:00", 1, "2026-09-15 18:00"},
		{"three days", cs.office, "2026-09-14 10:00", 3, "2026-09-17 18:00"},
		{"over weekend", cs.office, "2026-09-18 10:00", 1, "2026-09-21 18:00"},
		{"into extra sunday", cs.office, "2026-09-25 10:00", 1, "2026-09-27 18:00"},
		{"over holidays", cs.office, "2026-09-30 10:00", 1, "2026-10-08 18:00"},
		{"over holidays 3", cs.office, "2026-09-30 10:00", 3, "2026-10-10 18:00"},
		{"start on saturday", cs.office, "2026-09-19 10:00", 1, "2026-09-21 18:00"},
		{"start on saturday 2", cs.office, "2026-09-19 10:00", 2, "2026-09-22 18:00"},
		{"start on holiday", cs.office, "2026-10-01 10:00", 1, "2026-10-08 18:00"},
		{"zero on working day", cs.office, "2026-09-14 10:00", 0, "2026-09-14 18:00"},
		{"zero on working day after its end", cs.office, "2026-09-14 20:00", 0, "2026-09-14 18:00"},
		{"zero on saturday", cs.office, "2026-09-19 10:00", 0, "2026-09-21 18:00"},
		{"zero on holiday", cs.office, "2026-10-01 10:00", 0, "2026-10-08 18:00"},
		{"many days", cs.office, "2026-09-14 10:00", 25, "2026-10-22 18:00"},
		{"far past the specials", cs.office, "2026-09-14 10:00", 5*52 + 25, "2027-10-21 18:00"},
		{"given in UTC", cs.office, "2026-09-18T17:00:00Z", 1, "2026-09-21 18:00"}, // Saturday 01:00 in Shanghai
		{"berlin over spring change", cs.berlin, "2026-03-27 10:00", 1, "2026-03-30 17:00"},
		{"berlin over autumn change", cs.berlin, "2026-10-23 10:00", 1, "2026-10-26 17:00"},
		{"new york over spring change", cs.ny, "2026-03-06 10:00", 1, "2026-03-09 17:00"},
		{"new york over autumn change", cs.ny, "2026-10-30 10:00", 1, "2026-11-02 17:00"},
		{"new york 24:00 on change day", cs.ny24, "2026-03-07 10:00", 1, "2026-03-09 00:00"},
		{"always", cs.always, "2026-11-26T09:00:00+08:00", 1, "2026-11-28T00:00:00Z"},
		{"always 3", cs.always, "2026-11-26T09:00:00Z", 3, "2026-11-30T00:00:00Z"},
		{"only extra day", cs.onlyXtra, "2026-10-08 10:00", 1, "2026-10-10 18:00"},
		{"only extra day, used up", cs.onlyXtra, "2026-10-08 10:00", 2, "9999-12-31T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.c.AddWorkingDays(at(t, tt.c.Location, tt.start), tt.n)
			checkTime(t, tt.c, got, tt.want)
		})
	}
}

func TestEndOfWorkingDay(t *testing.T) {
	cs := testCalendars(t)
	tests := []struct {
		name string
		c    *Calendar
		t    string
		want string // "" = not a working day
	}{
		{"working day", cs.office, "2026-09-14 03:00", "2026-09-14 18:00"},
		{"after the end", cs.office, "2026-09-14 23:00", "2026-09-14 18:00"},
		{"saturday", cs.office, "2026-09-19 10:00", ""},
		{"holiday", cs.office, "2026-10-01 10:00", ""},
		{"extra day", cs.office, "2026-10-10 10:00", "2026-10-10 18:00"},
		{"always", cs.always, "2026-11-26T09:00:00+08:00", "2026-11-27T00:00:00Z"},
		{"new york 24:00 before spring change", cs.ny24, "2026-03-08 12:00", "2026-03-09 00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.c.EndOfWorkingDay(at(t, tt.c.Location, tt.t))
			if ok != (tt.want != "") {
				t.Fatalf("EndOfWorkingDay = %v, %v", got, ok)
			}
			if ok {
				checkTime(t, tt.c, got, tt.want)
			}
		})
	}
}

func TestNextEndOfWorkingDay(t *testing.T) {
	cs := testCalendars(t)
	tests := []struct {
		name string
		c    *Calendar
		t    string
		want string
	}{
		{"morning", cs.office, "2026-09-14 10:00", "2026-09-14 18:00"},
		{"just before", cs.office, "2026-09-14T17:59:59.999999999+08:00", "2026-09-14 18:00"},
		{"exactly at end", cs.office, "2026-09-14 18:00", "2026-09-15 18:00"},
		{"friday evening", cs.office, "2026-09-18 19:00", "2026-09-21 18:00"},
		{"before holidays", cs.office, "2026-09-30 18:00", "2026-10-08 18:00"},
		{"to extra day", cs.office, "2026-10-09 18:30", "2026-10-10 18:00"},
		{"berlin", cs.berlin, "2026-03-27 18:00", "2026-03-30 17:00"},
		{"always", cs.always, "2026-11-26T23:59:00Z", "2026-11-27T00:00:00Z"},
		{"always at midnight", cs.always, "2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z"},
		{"only extra day, used up", cs.onlyXtra, "2026-10-10 18:00", "9999-12-31T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkTime(t, tt.c, tt.c.NextEndOfWorkingDay(at(t, tt.c.Location, tt.t)), tt.want)
		})
	}
}

func TestNilLocationLiteral(t *testing.T) {
	c := &Calendar{Days: [7]bool{1: true}, Spans: []Span{{540, 600}}} // Mondays 09:00-10:00 UTC
	start := time.Date(2026, 9, 14, 9, 30, 0, 0, time.UTC)
	got := c.AddWorking(start, time.Hour)
	if want := time.Date(2026, 9, 21, 9, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("AddWorking = %v, want %v", got, want)
	}
}

func BenchmarkAddWorking(b *testing.B) {
	cs := testCalendars(b)
	start := time.Date(2026, 9, 14, 10, 17, 0, 0, cs.office.Location)
	b.Run("office 48h", func(b *testing.B) {
		for b.Loop() {
			cs.office.AddWorking(start, 48*time.Hour)
		}
	})
	b.Run("office 2h", func(b *testing.B) {
		for b.Loop() {
			cs.office.AddWorking(start, 2*time.Hour)
		}
	})
	b.Run("berlin 1000h", func(b *testing.B) {
		for b.Loop() {
			cs.berlin.AddWorking(start, 1000*time.Hour)
		}
	})
	b.Run("always 4h", func(b *testing.B) {
		for b.Loop() {
			cs.always.AddWorking(start, 4*time.Hour)
		}
	})
}
