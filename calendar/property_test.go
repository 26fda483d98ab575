package calendar

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("calendar.seed", 0, "seed of the calendar property tests (0: from the clock)")

// Property tests: the package against a brute-force reference that walks
// minute by minute. The reference is written independently of the package:
// it marks every minute of a window that lies inside time.Date(D, span) on a
// working date D (the package doc's model), then counts.

var propZones = []string{"UTC", "Asia/Shanghai", "Europe/Berlin", "America/New_York"}

// DST changes in the test zones, where random starts cluster.
var dstDays = []Date{
	{2026, time.March, 8}, {2026, time.November, 1}, // New York
	{2026, time.March, 29}, {2026, time.October, 25}, // Berlin
	{2027, time.March, 14}, {2027, time.November, 7},
	{2027, time.March, 28}, {2027, time.October, 31},
}

const windowDays = 30

// propLocs loads the zones of propZones once.
var propLocs = sync.OnceValues(func() ([]*time.Location, error) {
	var locs []*time.Location
	for _, z := range propZones {
		loc, err := time.LoadLocation(z)
		if err != nil {
			return nil, err
		}
		locs = append(locs, loc)
	}
	return locs, nil
})

// refCase is a random calendar, a start and the reference's view of a
// window of minutes from the start.
type refCase struct {
	cal   *Calendar
	loc   *time.Location
	days  [7]bool
	spans []Span
	hol   map[Date]bool
	extra map[Date]bool
	start time.Time
	work  []bool // work[i]: minute [start+i min, start+i+1 min) is working
}

func (rc *refCase) String() string {
	return fmt.Sprintf("zone %s days %v spans %v holidays %v extra %v start %s",
		rc.loc, rc.days, rc.spans, sortedDates(rc.hol), sortedDates(rc.extra), rc.start.Format(time.RFC3339))
}

func sortedDates(m map[Date]bool) []string {
	var out []string
	for d := range m {
		out = append(out, d.String())
	}
	slices.Sort(out)
	return out
}

// refWorkingDay is the reference's rule for working days.
func (rc *refCase) refWorkingDay(y int, m time.Month, d int) bool {
	day := Date{y, m, d}
	switch {
	case rc.extra[day]:
		return true
	case rc.hol[day]:
		return false
	}
	return rc.days[time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday()]
}

// refDayEnd is the reference's end of working day: the latest resolved span end.
func (rc *refCase) refDayEnd(y int, m time.Month, d int) time.Time {
	var end time.Time
	for _, sp := range rc.spans {
		e := time.Date(y, m, d, sp.End/60, sp.End%60, 0, 0, rc.loc)
		if end.IsZero() || e.After(end) {
			end = e
		}
	}
	return end
}

// mark fills rc.work.
func (rc *refCase) mark() {
	n := windowDays * 24 * 60
	rc.work = make([]bool, n)
	y, m, d := rc.start.In(rc.loc).Date()
	for i := -3; i <= windowDays+3; i++ {
		if !rc.refWorkingDay(normDate(y, m, d+i)) {
			continue
		}
		for _, sp := range rc.spans {
			s := time.Date(y, m, d+i, sp.Start/60, sp.Start%60, 0, 0, rc.loc)
			e := time.Date(y, m, d+i, sp.End/60, sp.End%60, 0, 0, rc.loc)
			// Whole minutes: the zones' offsets are whole hours.
			ks := max(int(s.Sub(rc.start)/time.Minute), 0)
			ke := min(int(e.Sub(rc.start)/time.Minute), n)
			for k := ks; k < ke; k++ {
				rc.work[k] = true
			}
		}
	}
}

func normDate(y int, m time.Month, d int) (int, time.Month, int) {
	return time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Date()
}

func (rc *refCase) minute(i int) time.Time { return rc.start.Add(time.Duration(i) * time.Minute) }

// refAddWorking returns the reference answer, in minutes from the start,
// or -1 if it is beyond the window.
func (rc *refCase) refAddWorking(d int) int {
	acc := 0
	for i := 0; i <= len(rc.work); i++ {
		if acc == d {
			return i
		}
		if i < len(rc.work) && rc.work[i] {
			acc++
		}
	}
	return -1
}

func (rc *refCase) refBetween(i, j int) int {
	n := 0
	for k := i; k < j; k++ {
		if rc.work[k] {
			n++
		}
	}
	return n
}

// randomCase makes a random valid calendar and start, and the minutes of
// the window if asked.
func randomCase(t *testing.T, r *rand.Rand, withMinutes bool) *refCase {
	locs, err := propLocs()
	if err != nil {
		t.Fatal(err)
	}
	for {
		rc := &refCase{
			loc:   locs[r.IntN(len(locs))],
			hol:   map[Date]bool{},
			extra: map[Date]bool{},
		}
		if r.IntN(10) > 0 { // one in ten has no working weekday
			for wd := range rc.days {
				rc.days[wd] = r.IntN(10) < 6
			}
		}
		rc.spans = randomSpans(r)

		var d0 Date
		if r.IntN(5) < 2 {
			d0 = dstDays[r.IntN(len(dstDays))]
			y, m, d := normDate(d0.Year, d0.Month, d0.Day-r.IntN(5))
			d0 = Date{y, m, d}
		} else {
			y, m, d := normDate(2025, time.January, 1+r.IntN(3*365))
			d0 = Date{y, m, d}
		}
		minute := r.IntN(24 * 60)
		if r.IntN(4) == 0 { // start exactly at a span boundary
			sp := rc.spans[r.IntN(len(rc.spans))]
			minute = []int{sp.Start, sp.End}[r.IntN(2)] % (24 * 60)
		}
		rc.start = time.Date(d0.Year, d0.Month, d0.Day, 0, minute, 0, 0, rc.loc)

		var hol, extra []Date
		for range r.IntN(6) {
			y, m, d := normDate(d0.Year, d0.Month, d0.Day-2+r.IntN(windowDays))
			hol = append(hol, Date{y, m, d})
			rc.hol[Date{y, m, d}] = true
		}
		for range r.IntN(4) {
			y, m, d := normDate(d0.Year, d0.Month, d0.Day-2+r.IntN(windowDays))
			if !rc.hol[Date{y, m, d}] {
				extra = append(extra, Date{y, m, d})
				rc.extra[Date{y, m, d}] = true
			}
		}
		var wds []time.Weekday
		for wd, ok := range rc.days {
			if ok {
				wds = append(wds, time.Weekday(wd))
			}
		}
		c, err := New("random", rc.loc, wds, rc.spans, hol, extra)
		if err != nil {
			continue // e.g. no working weekday and no extra day
		}
		rc.cal = c
		if withMinutes {
			rc.mark()
		}
		return rc
	}
}

// randomSpans returns 1-3 sorted, non-overlapping spans on whole minutes,
// often on whole hours, sometimes touching, sometimes at 00:00 or 24:00.
func randomSpans(r *rand.Rand) []Span {
	for {
		k := 1 + r.IntN(3)
		pts := make([]int, 2*k)
		for i := range pts {
			switch r.IntN(5) {
			case 0:
				pts[i] = r.IntN(24*60 + 1)
			case 1:
				pts[i] = []int{0, 24 * 60, 60, 120, 150, 180, 240}[r.IntN(7)]
			case 2: // around the DST changes of the test zones
				pts[i] = 60 + 15*r.IntN(13)
			default:
				pts[i] = 60 * r.IntN(25)
			}
		}
		slices.Sort(pts)
		spans := make([]Span, k)
		ok := true
		for i := range spans {
			spans[i] = Span{pts[2*i], pts[2*i+1]}
			ok = ok && spans[i].Start < spans[i].End
		}
		if ok {
			return spans
		}
	}
}

func propSeed(t *testing.T) uint64 {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -calendar.seed=%d)", seed, seed)
	return seed
}

func propCases(t *testing.T) int {
	switch {
	case testing.Short():
		return 300
	case raceEnabled: // the race detector makes this ten times slower
		return 500
	}
	return 2000
}

func TestPropertyAddWorking(t *testing.T) {
	seed := propSeed(t)
	r := rand.New(rand.NewPCG(seed, 1))
	n := propCases(t)
	checked := 0
	for i := range n {
		rc := randomCase(t, r, true)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed %d case %d: %s:\n%s", seed, i, rc, fmt.Sprintf(format, args...))
		}
		total := rc.refBetween(0, len(rc.work))

		// AddWorking against the reference, and WorkingBetween against it.
		for range 4 {
			d := 0
			if total > 0 {
				d = r.IntN(min(total, 6000) + 1)
			}
			want := rc.minute(rc.refAddWorking(d))
			got := rc.cal.AddWorking(rc.start, time.Duration(d)*time.Minute)
			if !got.Equal(want) || got.Location() != rc.loc {
				fail("AddWorking(start, %dm) = %s, want %s", d, got.Format(time.RFC3339), want.Format(time.RFC3339))
			}
			if wb := rc.cal.WorkingBetween(rc.start, got); wb != time.Duration(d)*time.Minute {
				fail("WorkingBetween(start, AddWorking(start, %dm)) = %v", d, wb)
			}
			checked++
		}

		// Starting anywhere in the window, with a duration off whole minutes.
		i0 := r.IntN(len(rc.work) / 2)
		if rest := rc.refBetween(i0, len(rc.work)); rest > 1 {
			d := r.IntN(min(rest-1, 3000)) // whole minutes
			sec := time.Duration(1+r.IntN(59)) * time.Second
			from := rc.minute(i0)
			// d working minutes from i0 are used up when the working minute
			// after them starts; it supplies sec more.
			j := rc.refAddWorking(rc.refBetween(0, i0) + d + 1)
			want := rc.minute(j - 1).Add(sec)
			got := rc.cal.AddWorking(from, time.Duration(d)*time.Minute+sec)
			if !got.Equal(want) {
				fail("AddWorking(%s, %v) = %s, want %s", from.Format(time.RFC3339), time.Duration(d)*time.Minute+sec,
					got.Format(time.RFC3339), want.Format(time.RFC3339))
			}
		}

		// WorkingBetween over random ranges.
		for range 4 {
			a, b := r.IntN(len(rc.work)), r.IntN(len(rc.work))
			want := time.Duration(rc.refBetween(a, b)) * time.Minute
			if got := rc.cal.WorkingBetween(rc.minute(a), rc.minute(b)); got != want {
				fail("WorkingBetween(%s, %s) = %v, want %v", rc.minute(a).Format(time.RFC3339), rc.minute(b).Format(time.RFC3339), got, want)
			}
		}

		// IsWorking at random minutes and at the edges of working runs.
		probe := func(k int) {
			u := rc.minute(k)
			if got := rc.cal.IsWorking(u); got != rc.work[k] {
				fail("IsWorking(%s) = %v, want %v", u.Format(time.RFC3339), got, rc.work[k])
			}
			if got := rc.cal.IsWorking(u.Add(59 * time.Second)); got != rc.work[k] {
				fail("IsWorking(%s) = %v, want %v", u.Add(59*time.Second).Format(time.RFC3339), got, rc.work[k])
			}
		}
		for range 8 {
			probe(r.IntN(len(rc.work)))
		}
		for k := 1; k < len(rc.work) && k < 4*24*60; k++ {
			if rc.work[k] != rc.work[k-1] {
				probe(k - 1)
				probe(k)
			}
		}
	}
	t.Logf("%d calendars, %d AddWorking checks", n, checked)
}

func TestPropertyWorkingDays(t *testing.T) {
	seed := propSeed(t)
	r := rand.New(rand.NewPCG(seed, 2))
	n := propCases(t)
	for i := range n {
		rc := randomCase(t, r, false)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed %d case %d: %s:\n%s", seed, i, rc, fmt.Sprintf(format, args...))
		}
		from := rc.start.Add(time.Duration(r.IntN(10*24*60)) * time.Minute)
		y, m, d := from.In(rc.loc).Date()

		// Reference working days from the day of from onwards, within
		// the window's holidays and extra days (all lie before day 40).
		var wdays []time.Time // their ends
		for k := 1; k <= 60; k++ {
			if rc.refWorkingDay(normDate(y, m, d+k)) {
				wdays = append(wdays, rc.refDayEnd(normDate(y, m, d+k)))
			}
		}
		todayWorks := rc.refWorkingDay(y, m, d)

		for nd := 0; nd <= 8; nd++ {
			var want time.Time
			switch {
			case nd == 0 && todayWorks:
				want = rc.refDayEnd(y, m, d)
			case nd == 0 && len(wdays) > 0:
				want = wdays[0]
			case nd > 0 && nd <= len(wdays):
				want = wdays[nd-1]
			case rc.days == [7]bool{}:
				want = never
			default:
				continue // beyond the reference's horizon
			}
			got := rc.cal.AddWorkingDays(from, nd)
			if !got.Equal(want) || got.Location() != rc.loc {
				fail("AddWorkingDays(%s, %d) = %s, want %s", from.Format(time.RFC3339), nd,
					got.Format(time.RFC3339), want.Format(time.RFC3339))
			}
		}

		// EndOfWorkingDay.
		end, ok := rc.cal.EndOfWorkingDay(from)
		if ok != todayWorks || (ok && !end.Equal(rc.refDayEnd(y, m, d))) {
			fail("EndOfWorkingDay(%s) = %s, %v", from.Format(time.RFC3339), end.Format(time.RFC3339), ok)
		}

		// NextEndOfWorkingDay: the first working day end after from.
		var want time.Time
		if todayWorks && rc.refDayEnd(y, m, d).After(from) {
			want = rc.refDayEnd(y, m, d)
		} else {
			for _, e := range wdays {
				if e.After(from) {
					want = e
					break
				}
			}
		}
		if want.IsZero() && rc.days == [7]bool{} {
			want = never
		}
		if !want.IsZero() {
			if got := rc.cal.NextEndOfWorkingDay(from); !got.Equal(want) {
				fail("NextEndOfWorkingDay(%s) = %s, want %s", from.Format(time.RFC3339), got.Format(time.RFC3339), want.Format(time.RFC3339))
			}
		}
	}
}
