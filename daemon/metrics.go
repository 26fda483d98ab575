package daemon

import (
	"context"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"helpdeskd/cases"
	"helpdeskd/store"
)

// In-process counters: only the daemon fetches and sends, so these see
// every message in and every mail out.
var (
	mailInTotal  = prometheus.NewCounter(prometheus.CounterOpts{Name: "helpdeskd_mail_in_total", Help: "Incoming messages committed."})
	mailOutTotal = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "helpdeskd_mail_out_total", Help: "Mails sent, by kind."}, []string{"kind"})
)

// newRegistry returns the /metrics registry of one run: the in-process
// counters, the Go and process collectors, and the database-derived
// metrics of dbCollector.
func newRegistry(c *dbCollector) *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(mailInTotal, mailOutTotal, c,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return r
}

var (
	descCases   = prometheus.NewDesc("helpdeskd_cases", "Cases by status.", []string{"status"}, nil)
	descOverdue = prometheus.NewDesc("helpdeskd_deadlines_overdue",
		"Open cases past a deadline: respond (no response yet), solve_online, onsite (nobody arrived).", []string{"deadline"}, nil)
	descQueued   = prometheus.NewDesc("helpdeskd_outbox_queued", "Mails waiting in the outbox.", nil, nil)
	descOldest   = prometheus.NewDesc("helpdeskd_outbox_oldest_age_seconds", "Age of the oldest mail waiting in the outbox (0 if none).", nil, nil)
	descFailed   = prometheus.NewDesc("helpdeskd_deliveries_failed_total", "Mails that failed for good.", nil, nil)
	descEvents   = prometheus.NewDesc("helpdeskd_events_total", "Case events, by kind, from every process (a case opened by `case open` counts as opened).", []string{"kind"}, nil)
	descEscal    = prometheus.NewDesc("helpdeskd_escalations_total", "Escalations, by what slipped: respond, stuck, solve, onsite, report, other.", []string{"kind"}, nil)
	descSuppress = prometheus.NewDesc("helpdeskd_auto_replies_suppressed_total", "Automatic replies not sent because of the per-sender limit.", nil, nil)
	descIMAP     = prometheus.NewDesc("helpdeskd_imap_connected", "1 while the IMAP session is logged in.", nil, nil)
	descSync     = prometheus.NewDesc("helpdeskd_last_sync_timestamp_seconds", "Unix time of the last successful IMAP sync (0: none yet).", nil, nil)
	descHealthy  = prometheus.NewDesc("helpdeskd_healthy", "1 when /healthz answers 200.", nil, nil)
	descBuild    = prometheus.NewDesc("helpdeskd_build_info", "Version and commit of the running binary.", []string{"version", "commit", "goversion"}, nil)
	descScrape   = prometheus.NewDesc("helpdeskd_scrape_error", "1 when the database could not be read for this scrape.", nil, nil)
)

// dbCollector derives metrics from the database at scrape time, so that
// work done by other processes (`helpdeskd case open`, replays) counts.
// Event totals are kept incrementally: each scrape reads only the events
// added since the previous one.
type dbCollector struct {
	db     *store.DB
	now    func() time.Time
	fetch  fetchHealth
	health *healthChecks

	mu     sync.Mutex
	lastID int64
	events map[string]int
	escal  map[string]int
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	v, commit := BuildInfo()
	gauge(descBuild, 1, v, commit, goVersion())
	f := c.fetch.Health()
	gauge(descIMAP, b2f(f.LoggedIn))
	gauge(descSync, unix(f.LastSync))
	gauge(descHealthy, b2f(len(c.health.check(ctx)) == 0))

	now := c.now()
	var counts map[string]int
	var over store.Overdue
	var ob store.OutboxStats
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.db.Read(ctx, func(t *store.Txn) error {
		var err error
		if counts, err = t.CaseCounts(); err != nil {
			return err
		}
		if over, err = t.OverdueCounts(now); err != nil {
			return err
		}
		if ob, err = t.OutboxStats(); err != nil {
			return err
		}
		return c.addEvents(t)
	})
	gauge(descScrape, b2f(err != nil))
	if err != nil {
		return
	}
	for _, s := range []string{cases.StatusOpen, cases.StatusResolved, cases.StatusClosed} {
		gauge(descCases, float64(counts[s]), s)
	}
	gauge(descOverdue, float64(over.Respond), "respond")
	gauge(descOverdue, float64(over.SolveOnline), "solve_online")
	gauge(descOverdue, float64(over.Onsite), "onsite")
	gauge(descQueued, float64(ob.Queued))
	age := 0.0
	if !ob.Oldest.IsZero() {
		age = max(now.Sub(ob.Oldest).Seconds(), 0)
	}
	gauge(descOldest, age)
	counter(descFailed, float64(ob.Failed))
	for k, n := range c.events {
		counter(descEvents, float64(n), k)
	}
	for _, k := range cases.EscalationKinds { // every kind, so that a graph starts at zero
		counter(descEscal, float64(c.escal[k]), k)
	}
	counter(descSuppress, float64(c.events[cases.EvAutoReplySuppressed]))
}

// addEvents adds the events since the last scrape to the totals.
func (c *dbCollector) addEvents(t *store.Txn) error {
	counts, top, err := t.EventCountsAfter(c.lastID)
	if err != nil {
		return err
	}
	var details []string
	if counts[cases.EvEscalated] > 0 {
		if details, err = t.EventDetails(cases.EvEscalated, c.lastID, top); err != nil {
			return err
		}
	}
	if c.events == nil {
		c.events, c.escal = map[string]int{}, map[string]int{}
	}
	for k, n := range counts {
		c.events[k] += n
	}
	for _, d := range details {
		c.escal[cases.EscalationKind(d)]++
	}
	c.lastID = top
	return nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unix(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMilli()) / 1000
}

// linkVersion and linkCommit, when set at link time, override the build
// info: go build -ldflags "-X helpdeskd/daemon.linkVersion=v1.2.0
// -X helpdeskd/daemon.linkCommit=$(git rev-parse HEAD)" ./cmd/helpdeskd
var linkVersion, linkCommit string

// BuildInfo returns the module version and VCS commit the binary was
// built from (runtime/debug build info; "(devel)" and "unknown" when the
// build does not say).
func BuildInfo() (version, commit string) {
	version, commit = "(devel)", "unknown"
	defer func() {
		if linkVersion != "" {
			version = linkVersion
		}
		if linkCommit != "" {
			commit = linkCommit
		}
	}()
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	if bi.Main.Version != "" {
		version = bi.Main.Version
	}
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && commit != "unknown" {
		commit += "-dirty"
	}
	return
}

func goVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.GoVersion
	}
	return "unknown"
}
