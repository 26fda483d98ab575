package main

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"helpdeskd/cases"
	"helpdeskd/store"
)

// share is a count of deadlines met out of those decided: met, or passed
// without being met. A deadline still ahead is not counted yet.
type share struct {
	Due    int      `json:"due"`
	Within int      `json:"within"`
	Share  *float64 `json:"share"` // Within/Due, null when nothing was due
}

func (s *share) add(met, decided bool) {
	if decided {
		s.Due++
		if met {
			s.Within++
		}
	}
}

func (s *share) finish() {
	if s.Due > 0 {
		v := math.Round(float64(s.Within)/float64(s.Due)*1e4) / 1e4
		s.Share = &v
	}
}

// durations is the mean and 90th percentile (nearest rank) of wall-clock
// times, in seconds.
type durations struct {
	Count int      `json:"count"`
	Mean  *float64 `json:"mean_seconds"`
	P90   *float64 `json:"p90_seconds"`
	all   []time.Duration
}

func (d *durations) add(x time.Duration) {
	if x >= 0 {
		d.all = append(d.all, x)
	}
}

func (d *durations) finish() {
	d.Count = len(d.all)
	if d.Count == 0 {
		return
	}
	slices.Sort(d.all)
	var sum time.Duration
	for _, x := range d.all {
		sum += x
	}
	mean := math.Round((sum / time.Duration(d.Count)).Seconds())
	// Nearest rank: the smallest value with at least 90% of the values at
	// or below it.
	p90 := math.Round(d.all[int(math.Ceil(0.9*float64(d.Count)))-1].Seconds())
	d.Mean, d.P90 = &mean, &p90
}

func (d durations) text() string {
	if d.Count == 0 {
		return "-"
	}
	return human(time.Duration(*d.Mean)*time.Second) + "/" + human(time.Duration(*d.P90)*time.Second)
}

// inspections counts inspection cases (SPEC §11.7) by how their report came.
type inspections struct {
	OnTime  int `json:"on_time"`
	Late    int `json:"late"`   // report after its due time, or the inspection opened late
	Missed  int `json:"missed"` // no report and its due time passed
	Pending int `json:"pending"`
}

// reportRow is deadline compliance for one severity and kind. The first
// keys are those of the first report (SPEC §10) and keep their meaning;
// "cases" counts the cases opened in the period.
type reportRow struct {
	Severity        int    `json:"severity"`
	Kind            string `json:"kind"`
	Cases           int    `json:"cases"`
	RespondedOnTime int    `json:"responded_on_time"`
	RespondedLate   int    `json:"responded_late"` // after respond_by, or not at all and it passed
	SolvedOnTime    int    `json:"solved_online_on_time"`
	SolvedLate      int    `json:"solved_late"` // after solve_online_by, on site once it passed, or not at all and it passed
	StillOpen       int    `json:"still_open"`  // not solved and solve_online_by still ahead
	Escalated       int    `json:"escalated"`   // cases escalated at least once

	Opened        int            `json:"opened"`
	Closed        int            `json:"closed"`   // closed in the period, whenever opened
	Imported      int            `json:"imported"` // archived by the first import, not counted elsewhere
	Responded     share          `json:"responded"`
	SolvedOnline  share          `json:"solved_online"`
	Arrived       share          `json:"onsite_arrived"`
	TimeToRespond durations      `json:"time_to_respond"`
	TimeToSolve   durations      `json:"time_to_solve"`
	TimeToArrive  durations      `json:"time_to_arrive"` // from dispatch
	Escalations   map[string]int `json:"escalations"`    // escalated events in the period, by kind
	Inspections   inspections    `json:"inspections"`
	Parts         int            `json:"parts"` // spare parts recorded in the period
	// OnsiteInTime counts faults dispatched on site before their
	// solve-online deadline passed: that deadline no longer applies and
	// is not counted in solved_online (cases.SolveOnlineOf).
	OnsiteInTime int `json:"onsite_in_time"`
}

// reportInput is what a report is made of.
type reportInput struct {
	from, to time.Time // half-open period; zero bounds are open-ended
	now      time.Time
	cases    map[int64]*cases.Case // every case named below
	list     []*cases.Case         // cases opened or closed in the period
	history  map[int64][]cases.Event
	period   []cases.Event // escalated and part events in the period
}

func (in reportInput) inPeriod(t time.Time) bool {
	return !t.IsZero() && (in.from.IsZero() || !t.Before(in.from)) && (in.to.IsZero() || t.Before(in.to))
}

// buildReport computes the report rows, ordered by severity and kind.
func buildReport(in reportInput) []reportRow {
	rows := map[[2]string]*reportRow{}
	row := func(c *cases.Case) *reportRow {
		k := [2]string{strconv.Itoa(c.Severity), c.KindOrFault()}
		r := rows[k]
		if r == nil {
			r = &reportRow{Severity: c.Severity, Kind: c.KindOrFault(), Escalations: map[string]int{}}
			for _, e := range cases.EscalationKinds {
				r.Escalations[e] = 0
			}
			rows[k] = r
		}
		return r
	}
	for _, c := range in.list {
		evs := in.history[c.Number]
		if slices.ContainsFunc(evs, func(e cases.Event) bool { return e.Kind == cases.EvImported }) {
			if in.inPeriod(c.OpenedAt) {
				row(c).Imported++
			}
			continue
		}
		r := row(c)
		if in.inPeriod(c.ClosedAt) {
			r.Closed++
		}
		if !in.inPeriod(c.OpenedAt) {
			continue
		}
		r.Opened++
		r.Cases++
		if slices.ContainsFunc(evs, func(e cases.Event) bool { return e.Kind == cases.EvEscalated }) {
			r.Escalated++
		}
		if c.KindOrFault() == cases.KindConsulting {
			continue // out of scope: its SLA clocks stopped
		}
		start := c.ClockStart
		if start.IsZero() {
			start = c.OpenedAt
		}
		comp := cases.ComplianceAt(c, in.now)
		if k := comp.Respond; k != nil {
			r.Responded.add(k.Met, k.Decided)
		}
		if !c.RespondedAt.IsZero() {
			r.TimeToRespond.add(c.RespondedAt.Sub(start))
		}
		if comp.OnsiteInTime {
			r.OnsiteInTime++
		}
		if k := comp.SolveOnline; k != nil {
			r.SolvedOnline.add(k.Met, k.Decided)
			if !k.Decided {
				r.StillOpen++
			}
		}
		if !c.ResolvedAt.IsZero() {
			r.TimeToSolve.add(c.ResolvedAt.Sub(start))
		}
		if k := comp.Onsite; k != nil {
			r.Arrived.add(k.Met, k.Decided)
		}
		if !c.OnsiteBy.IsZero() && !c.OnsiteArrivedAt.IsZero() {
			// From the dispatch; for cases stored before DispatchedAt
			// was, the last dispatch event before the arrival.
			sent := c.DispatchedAt
			for _, e := range evs {
				if c.DispatchedAt.IsZero() && e.Kind == cases.EvOnsiteDispatch && !e.At.After(c.OnsiteArrivedAt) {
					sent = e.At
				}
			}
			if !sent.IsZero() {
				r.TimeToArrive.add(c.OnsiteArrivedAt.Sub(sent))
			}
		}
		switch comp.Inspection {
		case cases.InspectionOnTime:
			r.Inspections.OnTime++
		case cases.InspectionLate:
			r.Inspections.Late++
		case cases.InspectionMissed:
			r.Inspections.Missed++
		case cases.InspectionPending:
			r.Inspections.Pending++
		}
	}
	for _, e := range in.period {
		c := in.cases[e.Case]
		if c == nil || slices.ContainsFunc(in.history[c.Number], func(e cases.Event) bool { return e.Kind == cases.EvImported }) {
			continue
		}
		switch e.Kind {
		case cases.EvEscalated:
			row(c).Escalations[cases.EscalationKind(e.Detail)]++
		case cases.EvPart:
			row(c).Parts++
		}
	}
	out := make([]reportRow, 0, len(rows))
	for _, r := range rows {
		r.RespondedOnTime, r.RespondedLate = r.Responded.Within, r.Responded.Due-r.Responded.Within
		r.SolvedOnTime, r.SolvedLate = r.SolvedOnline.Within, r.SolvedOnline.Due-r.SolvedOnline.Within
		for _, s := range []*share{&r.Responded, &r.SolvedOnline, &r.Arrived} {
			s.finish()
		}
		for _, d := range []*durations{&r.TimeToRespond, &r.TimeToSolve, &r.TimeToArrive} {
			d.finish()
		}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b reportRow) int {
		return cmp.Or(cmp.Compare(a.Severity, b.Severity), cmp.Compare(slices.Index(cases.Kinds, a.Kind), slices.Index(cases.Kinds, b.Kind)),
			cmp.Compare(a.Kind, b.Kind))
	})
	return out
}

func cmdReport(args []string, stdout io.Writer) error {
	fs, cfgPath := newFlags("report")
	from := fs.String("from", "", "first day (YYYY-MM-DD, in [display] timezone), inclusive")
	to := fs.String("to", "", "last day (YYYY-MM-DD, in [display] timezone), inclusive")
	asJSON := fs.Bool("json", false, "print JSON")
	asCSV := fs.Bool("csv", false, "print CSV, one line per severity and kind")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	if *asJSON && *asCSV {
		return usagef("report: --json or --csv, not both")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	loc := cfg.Display.Location
	in := reportInput{now: now()}
	if *from != "" {
		d, err := time.ParseInLocation(time.DateOnly, *from, loc)
		if err != nil {
			return usagef("report: --from %q is not a date (YYYY-MM-DD)", *from)
		}
		in.from = d
	}
	if *to != "" {
		d, err := time.ParseInLocation(time.DateOnly, *to, loc)
		if err != nil {
			return usagef("report: --to %q is not a date (YYYY-MM-DD)", *to)
		}
		in.to = d.AddDate(0, 0, 1)
	}
	if !in.from.IsZero() && !in.to.IsZero() && !in.from.Before(in.to) {
		return usagef("report: --from %s is after --to %s", *from, *to)
	}
	db, err := store.OpenExisting(context.Background(), cfg.Database.Path)
	if err != nil {
		return err
	}
	defer db.Close()
	err = db.Read(context.Background(), func(t *store.Txn) error {
		var err error
		if in.list, err = t.ReportCases(in.from, in.to); err != nil {
			return err
		}
		if in.period, err = t.EventsOfKinds(in.from, in.to, cases.EvEscalated, cases.EvPart); err != nil {
			return err
		}
		in.cases = map[int64]*cases.Case{}
		for _, c := range in.list {
			in.cases[c.Number] = c
		}
		// Events in the period can be on cases opened and closed outside it.
		for _, e := range in.period {
			if in.cases[e.Case] == nil {
				c, err := t.Case(e.Case)
				if err != nil {
					return err
				}
				in.cases[e.Case] = c
			}
		}
		nums := make([]int64, 0, len(in.cases))
		for n := range in.cases {
			nums = append(nums, n)
		}
		in.history, err = t.CaseEventsOfKinds(nums, cases.EvImported, cases.EvEscalated, cases.EvOnsiteDispatch)
		return err
	})
	if err != nil {
		return err
	}
	rows := buildReport(in)
	switch {
	case *asJSON:
		return writeJSON(stdout, rows)
	case *asCSV:
		return reportCSV(stdout, rows)
	}
	return reportText(stdout, rows, in, loc)
}

// csvHeader names the CSV columns; times are in seconds.
var csvHeader = []string{"severity", "kind", "opened", "closed", "imported",
	"responded_due", "responded_within", "responded_share",
	"solved_online_due", "solved_online_within", "solved_online_share", "still_open",
	"onsite_due", "onsite_within", "onsite_share",
	"respond_mean_s", "respond_p90_s", "solve_mean_s", "solve_p90_s", "arrive_mean_s", "arrive_p90_s",
	"escalated_cases", "esc_respond", "esc_stuck", "esc_solve", "esc_onsite", "esc_report", "esc_other",
	"inspections_on_time", "inspections_late", "inspections_missed", "inspections_pending", "parts", "onsite_in_time"}

func reportCSV(w io.Writer, rows []reportRow) error {
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	num := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	for _, r := range rows {
		rec := []string{strconv.Itoa(r.Severity), r.Kind}
		for _, n := range []int{r.Opened, r.Closed, r.Imported, r.Responded.Due, r.Responded.Within} {
			rec = append(rec, strconv.Itoa(n))
		}
		rec = append(rec, num(r.Responded.Share), strconv.Itoa(r.SolvedOnline.Due), strconv.Itoa(r.SolvedOnline.Within),
			num(r.SolvedOnline.Share), strconv.Itoa(r.StillOpen), strconv.Itoa(r.Arrived.Due), strconv.Itoa(r.Arrived.Within),
			num(r.Arrived.Share))
		for _, d := range []durations{r.TimeToRespond, r.TimeToSolve, r.TimeToArrive} {
			rec = append(rec, num(d.Mean), num(d.P90))
		}
		rec = append(rec, strconv.Itoa(r.Escalated))
		for _, k := range cases.EscalationKinds {
			rec = append(rec, strconv.Itoa(r.Escalations[k]))
		}
		for _, n := range []int{r.Inspections.OnTime, r.Inspections.Late, r.Inspections.Missed, r.Inspections.Pending, r.Parts, r.OnsiteInTime} {
			rec = append(rec, strconv.Itoa(n))
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

func (s share) text() string {
	if s.Share == nil {
		return "-"
	}
	return fmt.Sprintf("%d/%d %.0f%%", s.Within, s.Due, *s.Share*100)
}

func reportText(w io.Writer, rows []reportRow, in reportInput, loc *time.Location) error {
	period := "all time"
	switch {
	case !in.from.IsZero() && !in.to.IsZero():
		period = in.from.Format(time.DateOnly) + " to " + in.to.AddDate(0, 0, -1).Format(time.DateOnly)
	case !in.from.IsZero():
		period = "from " + in.from.Format(time.DateOnly)
	case !in.to.IsZero():
		period = "to " + in.to.AddDate(0, 0, -1).Format(time.DateOnly)
	}
	zone := loc.String()
	if zone == "Local" {
		zone, _ = in.now.In(loc).Zone()
		zone = "system time zone " + zone
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Deadline report, %s (%s), as of %s\n", period, zone, textTime(in.now, loc))
	if len(rows) == 0 {
		b.WriteString("no cases in this period\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("Within deadline: met/due (a deadline still ahead is not due yet; +N on site: dispatched before the\n" +
		"solve-online deadline, which then is not due). Times: mean/90th percentile.\n\n")
	var tb table
	tb.add("SEV", "KIND", "OPENED", "CLOSED", "IMPORTED", "RESPONDED", "SOLVED ONLINE", "ON SITE", "TO RESPOND", "TO SOLVE", "TO ARRIVE", "ESCALATIONS", "PARTS")
	var insp []reportRow
	for _, r := range rows {
		var esc []string
		for _, k := range cases.EscalationKinds {
			if n := r.Escalations[k]; n > 0 {
				esc = append(esc, fmt.Sprintf("%s %d", k, n))
			}
		}
		solved := r.SolvedOnline.text()
		if r.OnsiteInTime > 0 {
			solved += fmt.Sprintf(" +%d on site", r.OnsiteInTime)
		}
		tb.add(strconv.Itoa(r.Severity), r.Kind, strconv.Itoa(r.Opened), strconv.Itoa(r.Closed), strconv.Itoa(r.Imported), r.Responded.text(),
			solved, r.Arrived.text(), r.TimeToRespond.text(), r.TimeToSolve.text(), r.TimeToArrive.text(),
			orDash(strings.Join(esc, ", ")), strconv.Itoa(r.Parts))
		if r.Kind == cases.KindInspection {
			insp = append(insp, r)
		}
	}
	if err := tb.write(&b); err != nil {
		return err
	}
	if len(insp) > 0 {
		b.WriteString("\nInspections:\n")
		it := table{indent: "  "}
		it.add("SEV", "ON TIME", "LATE", "MISSED", "PENDING")
		for _, r := range insp {
			it.add(strconv.Itoa(r.Severity), strconv.Itoa(r.Inspections.OnTime), strconv.Itoa(r.Inspections.Late),
				strconv.Itoa(r.Inspections.Missed), strconv.Itoa(r.Inspections.Pending))
		}
		if err := it.write(&b); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
