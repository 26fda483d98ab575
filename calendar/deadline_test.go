package calendar

import (
	"strings"
	"testing"
	"time"
)

func TestParseDeadline(t *testing.T) {
	tests := []struct {
		in      string
		want    Deadline
		str     string // String() of the result
		wantErr string // exact error when != ""
	}{
		{in: "4 working hours", want: Deadline{Kind: WorkingTime, Duration: 4 * time.Hour}, str: "4 working hours"},
		{in: "1 working hour", want: Deadline{Kind: WorkingTime, Duration: time.Hour}, str: "1 working hour"},
		{in: "30 working minutes", want: Deadline{Kind: WorkingTime, Duration: 30 * time.Minute}, str: "30 working minutes"},
		{in: "90 working minutes", want: Deadline{Kind: WorkingTime, Duration: 90 * time.Minute}, str: "90 working minutes"},
		{in: "120 working minutes", want: Deadline{Kind: WorkingTime, Duration: 2 * time.Hour}, str: "2 working hours"},
		{in: "1 working minute", want: Deadline{Kind: WorkingTime, Duration: time.Minute}, str: "1 working minute"},
		{in: "3 working days", want: Deadline{Kind: WorkingDays, Days: 3}, str: "3 working days"},
		{in: "1 working day", want: Deadline{Kind: WorkingDays, Days: 1}, str: "1 working day"},
		{in: "  2   Working   HOURS ", want: Deadline{Kind: WorkingTime, Duration: 2 * time.Hour}, str: "2 working hours"},
		{in: "2 working hour", want: Deadline{Kind: WorkingTime, Duration: 2 * time.Hour}, str: "2 working hours"},
		{in: "24h", want: Deadline{Kind: WallClock, Duration: 24 * time.Hour}, str: "24h"},
		{in: "90m", want: Deadline{Kind: WallClock, Duration: 90 * time.Minute}, str: "1h30m"},
		{in: "20s", want: Deadline{Kind: WallClock, Duration: 20 * time.Second}, str: "20s"},
		{in: "10m", want: Deadline{Kind: WallClock, Duration: 10 * time.Minute}, str: "10m"},
		{in: "1H30M", want: Deadline{Kind: WallClock, Duration: 90 * time.Minute}, str: "1h30m"},
		{in: " 168h ", want: Deadline{Kind: WallClock, Duration: 168 * time.Hour}, str: "168h"},
		{in: "4 working weeks", wantErr: `"4 working weeks": unknown unit "weeks" (want working minutes, hours or days, or a duration like "24h")`},
		{in: "0 working hours", wantErr: `"0 working hours": amount must be positive`},
		{in: "-2 working days", wantErr: `"-2 working days": amount must be positive`},
		{in: "-99999999999999999999 working days", wantErr: `"-99999999999999999999 working days": amount must be positive`},
		{in: "1.5 working hours", wantErr: `"1.5 working hours": amount "1.5" is not a whole number`},
		{in: "four working hours", wantErr: `"four working hours": amount "four" is not a number`},
		{in: "99999999999999 working hours", wantErr: `"99999999999999 working hours": amount "99999999999999" is too large`},
		{in: "999999999999999999999 working minutes", wantErr: `"999999999999999999999 working minutes": amount "999999999999999999999" is too large`},
		{in: "200000 working days", wantErr: `"200000 working days": amount "200000" is too large (at most 100000)`},
		{in: "4 hours", wantErr: `"4 hours": want "N working hours", "N working minutes", "N working days" or a duration like "24h"`},
		{in: "4 working", wantErr: `"4 working": want "N working hours", "N working minutes", "N working days" or a duration like "24h"`},
		{in: "0s", wantErr: `"0s": must be positive`},
		{in: "-24h", wantErr: `"-24h": must be positive`},
		{in: "24", wantErr: `"24": not a duration (want working minutes, hours or days, or a duration like "24h")`},
		{in: "soon", wantErr: `"soon": not a duration (want working minutes, hours or days, or a duration like "24h")`},
		{in: "  ", wantErr: `empty deadline (want working minutes, hours or days, or a duration like "24h")`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDeadline(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseDeadline(%q) = %+v, %v; want error %s", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseDeadline(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			if s := got.String(); s != tt.str {
				t.Errorf("String() = %q, want %q", s, tt.str)
			}
			if back, err := ParseDeadline(got.String()); err != nil || back != got {
				t.Errorf("round trip %q = %+v, %v", got.String(), back, err)
			}
		})
	}
}

func TestDeadlineStringOdd(t *testing.T) {
	d := Deadline{Kind: WorkingTime, Duration: 90 * time.Second}
	if s := d.String(); !strings.Contains(s, "1m30s") {
		t.Errorf("String() = %q", s)
	}
}

func TestDeadlineAfter(t *testing.T) {
	cs := testCalendars(t)
	tests := []struct {
		name  string
		d     string
		c     *Calendar
		start string
		want  string
	}{
		{"wall clock ignores the calendar", "24h", cs.office, "2026-09-18 17:00", "2026-09-19 17:00"},
		{"wall clock over new york change", "24h", cs.ny, "2026-03-07 12:00", "2026-03-08 13:00"},
		{"working hours", "4 working hours", cs.office, "2026-09-18 17:00", "2026-09-21 12:00"},
		{"working minutes", "30 working minutes", cs.office, "2026-09-15 11:45", "2026-09-15 13:45"},
		{"working days", "3 working days", cs.office, "2026-09-30 10:00", "2026-10-10 18:00"},
		{"7x24 respond", "4h", cs.always, "2026-11-26T09:00:00+08:00", "2026-11-26T05:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseDeadline(tt.d)
			if err != nil {
				t.Fatal(err)
			}
			checkTime(t, tt.c, d.After(tt.c, at(t, tt.c.Location, tt.start)), tt.want)
		})
	}
}

func TestDeadlineAfterNilCalendar(t *testing.T) {
	start := time.Date(2026, 9, 15, 10, 0, 0, 0, time.UTC)
	d := Deadline{Kind: WallClock, Duration: 4 * time.Hour}
	if got := d.After(nil, start); !got.Equal(start.Add(4 * time.Hour)) {
		t.Errorf("After(nil, start) = %v", got)
	}
}
