package cases

import (
	"time"

	"helpdeskd/calendar"
	"helpdeskd/config"
)

// Periodic inspections (SPEC §1.6, §11.7). A customer's schedule names
// days ("monthly 5", "quarterly 15", "weekly mon", "2027-03-01"); each day
// opens one inspection case at the first working minute of that day on
// the customer's plan calendar (the next working day if that day is not
// one). Its engineer is reminded at the first working minute of the
// working day before, and told again at opening.

// InspectionCursor is how far a customer's schedule has been handled: Next
// is the first scheduled day not opened yet, Reminded the last day whose
// reminder was sent. The desk stores it per customer.
type InspectionCursor struct {
	Next     calendar.Date
	Reminded calendar.Date
	// Since is when the schedule was first seen: an occurrence whose time
	// came before it is not late, only new to the daemon.
	Since time.Time
}

// InspectionStep is what the schedule asks for at now: a reminder for a
// day, or the opening of a day's case.
type InspectionStep struct {
	Day      calendar.Date // the scheduled day
	Remind   bool          // remind the engineer (else: open the case)
	Late     bool          // the opening comes after its time (the daemon was down)
	Engineer string        // who does it: the region's first engineer
}

// lateAfter is how long after its opening minute an inspection counts as
// opened late (the daemon was not running at its time).
const lateAfter = time.Hour

// matches reports whether a schedule entry names day d.
func matches(e config.Inspection, d calendar.Date) bool {
	switch e.Every {
	case "monthly":
		return d.Day == clampDay(d.Year, d.Month, e.Day)
	case "quarterly":
		return (d.Month-1)%3 == 0 && d.Day == clampDay(d.Year, d.Month, e.Day)
	case "weekly":
		return d.Midnight().Weekday() == e.Weekday
	case "once":
		return calendar.DateOf(e.Date) == d
	}
	return false
}

// clampDay is day of the month, or the month's last day when the month is
// shorter ("monthly 31" is the last day of every month).
func clampDay(y int, m time.Month, day int) int {
	last := time.Date(y, m+1, 0, 12, 0, 0, 0, time.UTC).Day()
	return min(day, last)
}

// NextInspection is the first scheduled day of cu on or after from, and
// false if there is none within a year and a half.
func NextInspection(cu *config.Customer, from calendar.Date) (calendar.Date, bool) {
	d := from
	for i := 0; i < 550; i++ {
		for _, e := range cu.Inspections {
			if matches(e, d) {
				return d, true
			}
		}
		d = d.AddDays(1)
	}
	return calendar.Date{}, false
}

// InspectionTimes are when the case of scheduled day d opens and when its
// engineer is reminded.
func InspectionTimes(cfg *config.Config, cu *config.Customer, d calendar.Date) (open, remind time.Time) {
	cal := cfg.PlanOrDefault(cu.Plan).Calendar
	open, day := cal.FirstWorkingMinute(d)
	if prev, ok := cal.PrevWorkingDay(day); ok {
		remind, _ = cal.FirstWorkingMinute(prev)
	}
	return open, remind
}

// InspectionStart is the cursor of a schedule seen for the first time at
// now: today's inspection, if any, still opens (SPEC §11.7 "an inspection
// due today opens at start"); earlier days are not made up for.
func InspectionStart(cfg *config.Config, cu *config.Customer, now time.Time) InspectionCursor {
	return InspectionCursor{Next: cfg.PlanOrDefault(cu.Plan).Calendar.DateIn(now), Since: now}
}

// Inspections decides what a customer's schedule asks for at now, in
// order, and the cursor after them. Every occurrence opens exactly once:
// a day whose time passed while the daemon was down opens now, marked
// late. A customer without the inspection service has no schedule.
func Inspections(cfg *config.Config, cu *config.Customer, cur InspectionCursor, now time.Time) ([]InspectionStep, InspectionCursor) {
	if !cu.HasService("inspection") || len(cu.Inspections) == 0 {
		return nil, cur
	}
	eng := Route(cfg, cu.Region, nil)
	var steps []InspectionStep
	for range 100 { // bounded: at most 100 missed occurrences at once
		day, ok := NextInspection(cu, cur.Next)
		if !ok {
			break
		}
		open, remind := InspectionTimes(cfg, cu, day)
		if now.Before(open) {
			if !remind.IsZero() && !now.Before(remind) && cur.Reminded != day {
				steps = append(steps, InspectionStep{Day: day, Remind: true, Engineer: eng})
				cur.Reminded = day
			}
			break
		}
		late := now.Sub(open) > lateAfter && open.After(cur.Since)
		steps = append(steps, InspectionStep{Day: day, Late: late, Engineer: eng})
		cur.Next = day.AddDays(1)
	}
	return steps, cur
}

// InspectionInput is the case a scheduled inspection day opens: for the
// customer's first contact, at the default severity, subject in both
// languages.
func InspectionInput(cfg *config.Config, cu *config.Customer, s InspectionStep) OpenInput {
	contact := config.Contact{}
	if len(cu.Contacts) > 0 {
		contact = cu.Contacts[0]
	}
	return OpenInput{Company: cu.Company, Contact: contact.Name, Phone: contact.Phone, Email: contact.Email,
		Subject: "定期巡检 / Periodic inspection " + s.Day.String(), Severity: cfg.Policy.DefaultSeverity,
		Via: "schedule", Kind: KindInspection, PlannedDate: s.Day.Midnight(), Late: s.Late}
}
