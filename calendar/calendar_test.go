package calendar

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the tests need these zones on any machine
)

// never is what searches return when a calendar has no working time left.
var never = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func mustDate(t testing.TB, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// mustCal builds a calendar from config-like strings:
// days "mon tue", hours "09:00-12:00 13:30-18:00", dates "2026-10-01 ...".
func mustCal(t testing.TB, zone, days, hours, holidays, extra string) *Calendar {
	t.Helper()
	var wds []time.Weekday
	for _, f := range strings.Fields(days) {
		wd, err := ParseWeekday(f)
		if err != nil {
			t.Fatal(err)
		}
		wds = append(wds, wd)
	}
	var spans []Span
	for _, f := range strings.Fields(hours) {
		sp, err := ParseSpan(f)
		if err != nil {
			t.Fatal(err)
		}
		spans = append(spans, sp)
	}
	dates := func(s string) []Date {
		var out []Date
		for _, f := range strings.Fields(s) {
			out = append(out, mustDate(t, f))
		}
		return out
	}
	c, err := New(zone, mustLoc(t, zone), wds, spans, dates(holidays), dates(extra))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// at reads "2006-01-02 15:04" in loc, or an RFC 3339 time (for instants
// that local wall-clock time cannot name, such as the repeated hour).
func at(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	if strings.Contains(s, "T") {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.In(loc)
	}
	tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestParseSpan(t *testing.T) {
	tests := []struct {
		in      string
		want    Span
		wantErr string
	}{
		{in: "09:00-12:00", want: Span{540, 720}},
		{in: "00:00-24:00", want: Span{0, 1440}},
		{in: " 9:05 - 17:30 ", want: Span{545, 1050}},
		{in: "23:59-24:00", want: Span{1439, 1440}},
		{in: "13:30-12:00", wantErr: "end 12:00 is not after start 13:30"},
		{in: "12:00-12:00", wantErr: "end 12:00 is not after start 12:00"},
		{in: "24:00-24:00", wantErr: "start 24:00 is not between 00:00 and 23:59"},
		{in: "09:00", wantErr: "want HH:MM-HH:MM"},
		{in: "9-12", wantErr: `start: "9" is not a time like 09:00`},
		{in: "09:00-24:30", wantErr: `end: "24:30" is not a time between 00:00 and 24:00`},
		{in: "09:60-10:00", wantErr: `start: "09:60" is not a time between`},
		{in: "25:00-26:00", wantErr: `start: "25:00" is not a time between`},
		{in: "-1:00-10:00", wantErr: "is not a time like"},
		{in: "", wantErr: "want HH:MM-HH:MM"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSpan(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSpan(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.in) {
					t.Errorf("error %q does not name the input", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSpan(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if back, err := ParseSpan(got.String()); err != nil || back != got {
				t.Errorf("round trip %q: %v, %v", got.String(), back, err)
			}
		})
	}
	if s := (Span{0, 1440}).String(); s != "00:00-24:00" {
		t.Errorf("String = %q", s)
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want Date
		ok   bool
	}{
		{"2026-10-01", Date{2026, time.October, 1}, true},
		{" 2028-02-29 ", Date{2028, time.February, 29}, true},
		{"2026-02-29", Date{}, false},
		{"2026-13-01", Date{}, false},
		{"2026-1-1", Date{}, false},
		{"01/10/2026", Date{}, false},
		{"", Date{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDate(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("ParseDate(%q) = %v, %v", tt.in, got, err)
			}
			if err != nil && !strings.Contains(err.Error(), "YYYY-MM-DD") {
				t.Errorf("error %q does not say the format", err)
			}
			if err == nil && got.String() != strings.TrimSpace(tt.in) {
				t.Errorf("String = %q", got.String())
			}
		})
	}
	sh := mustLoc(t, "Asia/Shanghai")
	// 2026-09-30 20:00 UTC is already October 1st in Shanghai.
	utc := time.Date(2026, 9, 30, 20, 0, 0, 0, time.UTC)
	if got := DateOf(utc.In(sh)); got != (Date{2026, time.October, 1}) {
		t.Errorf("DateOf in Shanghai = %v", got)
	}
	if got := DateOf(utc); got != (Date{2026, time.September, 30}) {
		t.Errorf("DateOf in UTC = %v", got)
	}
}

func TestParseWeekday(t *testing.T) {
	tests := []struct {
		in   string
		want time.Weekday
		ok   bool
	}{
		{"mon", time.Monday, true},
		{"Tue", time.Tuesday, true},
		{"WEDNESDAY", time.Wednesday, true},
		{"thu", time.Thursday, true},
		{"friday", time.Friday, true},
		{" sat ", time.Saturday, true},
		{"sun", time.Sunday, true},
		{"Sunday", time.Sunday, true},
		{"mo", 0, false},
		{"", 0, false},
		{"weekday", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseWeekday(tt.in)
			if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
				t.Fatalf("ParseWeekday(%q) = %v, %v", tt.in, got, err)
			}
			if err != nil && !strings.Contains(err.Error(), "want mon, tue") {
				t.Errorf("error %q does not list the weekdays", err)
			}
		})
	}
}

func TestNew(t *testing.T) {
	sh := mustLoc(t, "Asia/Shanghai")
	wk := []time.Weekday{time.Monday, time.Friday}
	office := []Span{{540, 720}, {810, 1080}}
	d1 := Date{2026, time.October, 1}
	d10 := Date{2026, time.October, 10}
	tests := []struct {
		name     string
		loc      *time.Location
		days     []time.Weekday
		spans    []Span
		hol, ext []Date
		wantErr  []string
	}{
		{name: "ok", loc: sh, days: wk, spans: office, hol: []Date{d1}, ext: []Date{d10}},
		{name: "touching spans", loc: sh, days: wk, spans: []Span{{540, 720}, {720, 780}}},
		{name: "only extra days", loc: sh, spans: office, ext: []Date{d10}},
		{name: "nil location", days: wk, spans: office, wantErr: []string{"no time zone"}},
		{name: "no spans", loc: sh, days: wk, wantErr: []string{"no working hours"}},
		{name: "overlap", loc: sh, days: wk, spans: []Span{{540, 720}, {700, 800}},
			wantErr: []string{"hours 09:00-12:00 and 11:40-13:20 overlap or are out of order"}},
		{name: "unsorted", loc: sh, days: wk, spans: []Span{{810, 1080}, {540, 720}},
			wantErr: []string{"overlap or are out of order"}},
		{name: "bad span", loc: sh, days: wk, spans: []Span{{720, 540}},
			wantErr: []string{"hours 12:00-09:00: end 09:00 is not after start 12:00"}},
		{name: "holiday and extra", loc: sh, days: wk, spans: office, hol: []Date{d1}, ext: []Date{d1},
			wantErr: []string{"date 2026-10-01 is both a holiday and an extra working day"}},
		{name: "no working days", loc: sh, spans: office, hol: []Date{d1},
			wantErr: []string{"no working days and no extra working days"}},
		{name: "every problem at once", spans: nil,
			wantErr: []string{"no time zone", "no working hours", "no working days"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New("office", tt.loc, tt.days, tt.spans, tt.hol, tt.ext)
			if len(tt.wantErr) == 0 {
				if err != nil || c == nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("New succeeded, want errors %q", tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), `calendar "office": `) {
				t.Errorf("error %q does not name the calendar", err)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}

	// New copies its inputs.
	spans := []Span{{540, 720}}
	c, err := New("x", sh, wk, spans, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	spans[0].End = 600
	if c.Spans[0].End != 720 || c.Holidays == nil || c.Extra == nil {
		t.Errorf("calendar = %+v", c)
	}
}

func TestIsWorkingDay(t *testing.T) {
	c := mustCal(t, "Asia/Shanghai", "mon tue wed thu fri", "09:00-12:00", "2026-10-01", "2026-10-10")
	tests := []struct {
		date string
		want bool
	}{
		{"2026-09-30", true},  // Wednesday
		{"2026-10-01", false}, // Thursday, holiday
		{"2026-10-03", false}, // Saturday
		{"2026-10-10", true},  // Saturday, extra working day
		{"2026-10-11", false}, // Sunday
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			if got := c.IsWorkingDay(mustDate(t, tt.date)); got != tt.want {
				t.Errorf("IsWorkingDay(%s) = %v", tt.date, got)
			}
		})
	}
	// Dates are normalized: September 31st is October 1st.
	if c.IsWorkingDay(Date{2026, time.September, 31}) {
		t.Error("2026-09-31 (= 2026-10-01, a holiday) is a working day")
	}
}

func TestAlways(t *testing.T) {
	a := Always()
	if a.Name != "always" || a.Location != time.UTC {
		t.Fatalf("Always() = %+v", a)
	}
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		if !a.Days[wd] {
			t.Errorf("%v is not a working day", wd)
		}
	}
	a.Days[time.Monday] = false
	if !Always().Days[time.Monday] {
		t.Error("Always() shares state between calls")
	}
}
