package main

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/width"
)

// textTime is how text output shows a time: minutes and the offset, in the
// [display] time zone (SPEC §11.5), e.g. "2026-11-26 17:47 +08:00".
func textTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("2006-01-02 15:04 -07:00")
}

// stamp is an RFC 3339 time as desk writes them into event details.
var stamp = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})`)

// localStamps rewrites the RFC 3339 times in s (event details such as
// "deadline 2026-11-26T06:30:00Z") as text output shows times.
func localStamps(s string, loc *time.Location) string {
	return stamp.ReplaceAllStringFunc(s, func(m string) string {
		t, err := time.Parse(time.RFC3339, m)
		if err != nil {
			return m
		}
		return textTime(t, loc)
	})
}

// human shows a duration to people: "45m", "3h05m", "5h", "2d4h".
func human(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Round(time.Minute)
	days, h, m := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case days > 0 && h == 0:
		return fmt.Sprintf("%dd", days)
	case days > 0:
		return fmt.Sprintf("%dd%dh", days, h)
	case h > 0 && m == 0:
		return fmt.Sprintf("%dh", h)
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	}
	return fmt.Sprintf("%dm", m)
}

// left says how long until a deadline, or how late it is, marked with "!".
func left(due, now time.Time) string {
	if due.Before(now) {
		return "!" + human(now.Sub(due)) + " late"
	}
	return "in " + human(due.Sub(now))
}

// textWidth is the number of terminal columns s takes: East Asian wide and
// full-width characters take two, combining marks and controls none.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) || unicode.IsControl(r) || r == '\u200b':
		case width.LookupRune(r).Kind() == width.EastAsianWide || width.LookupRune(r).Kind() == width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

// table writes rows in columns padded by display width, which
// text/tabwriter gets wrong for CJK text. The last column is not padded;
// every line starts with indent.
type table struct {
	indent string
	rows   [][]string
}

// add appends a row; whitespace in a cell is folded to single spaces, since
// a newline would break the columns.
func (t *table) add(cells ...string) {
	for i, c := range cells {
		cells[i] = strings.Join(strings.Fields(c), " ")
	}
	t.rows = append(t.rows, cells)
}

func (t *table) write(w io.Writer) error {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], textWidth(c))
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		b.WriteString(t.indent)
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-textWidth(c)+2))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
