package daemon

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"helpdeskd/mailin"
	"helpdeskd/mailout"
	"helpdeskd/store"
)

// fetchHealth is what the health check needs of the IMAP fetcher.
type fetchHealth interface{ Health() mailin.FetchHealth }

// healthChecks evaluates /healthz (SPEC §11.2): the database answers,
// the IMAP session is logged in, the last successful sync is recent, the
// SMTP server takes mail, and no mail waits past its first retry.
type healthChecks struct {
	now     func() time.Time
	loc     *time.Location
	db      *store.DB
	fetch   fetchHealth
	smtp    *smtpHealth
	poll    time.Duration
	started time.Time

	mu          sync.Mutex
	dbDownSince time.Time
}

// syncMaxAge is how old the last successful sync may be: three poll
// intervals, at least a minute.
func (h *healthChecks) syncMaxAge() time.Duration { return max(3*h.poll, time.Minute) }

// check returns one line per failing check, `NAME: what (since T)`;
// none when all is well.
func (h *healthChecks) check(ctx context.Context) []string {
	now := h.now()
	var out []string
	add := func(name, what string, since time.Time) {
		out = append(out, fmt.Sprintf("%s: %s (since %s)", name, oneLine(what), since.In(h.loc).Format(time.RFC3339)))
	}

	// The outbox query is also the database check: an error is the
	// database not answering.
	var stuck store.Stuck
	dbErr := h.db.Read(ctx, func(t *store.Txn) error {
		var err error
		stuck, err = t.StuckMail(now.Add(-mailout.Backoff(1)))
		return err
	})
	h.mu.Lock()
	switch {
	case dbErr != nil && h.dbDownSince.IsZero():
		h.dbDownSince = now
	case dbErr == nil:
		h.dbDownSince = time.Time{}
	}
	dbSince := h.dbDownSince
	h.mu.Unlock()
	if dbErr != nil {
		add("database", "does not answer: "+dbErr.Error(), dbSince)
	}

	f := h.fetch.Health()
	switch {
	case !f.LoggedIn && f.Since.IsZero():
		add("imap", "not logged in yet", h.started)
	case !f.LoggedIn:
		add("imap", stageWhat(f.Stage)+": "+f.LastError, f.Since)
	case f.LastSync.IsZero():
		add("imap", "logged in, first sync not finished", f.Since)
	case now.Sub(f.LastSync) >= h.syncMaxAge():
		add("imap", fmt.Sprintf("no successful sync for %s (limit %s)", now.Sub(f.LastSync).Round(time.Second), h.syncMaxAge()), f.LastSync)
	}

	if what, since, bad := h.smtp.failing(); bad {
		add("smtp", what, since)
	}

	if stuck.Count > 0 {
		what := fmt.Sprintf("%d mail(s) waiting past their first retry", stuck.Count)
		if stuck.Case != 0 {
			what += fmt.Sprintf(", the oldest for case %d", stuck.Case)
		}
		if stuck.LastError != "" {
			what += ": " + stuck.LastError
		}
		add("outbox", what, stuck.Oldest)
	}
	return out
}

func stageWhat(stage string) string {
	switch stage {
	case mailin.StageConnect:
		return "cannot connect"
	case mailin.StageLogin:
		return "login failed"
	case mailin.StageSelect:
		return "cannot open the folder"
	}
	return "session lost"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// smtpHealth follows the results of the sender's attempts. SMTP counts
// as failing while the last attempt was deferred (4xx, network), or the
// last permanentRun attempts all failed for good (a wrong password is a
// permanent 535 on every mail; one bad recipient is not).
type smtpHealth struct {
	now func() time.Time

	mu        sync.Mutex
	since     time.Time // first failure of the current run of failures
	deferred  bool      // the last attempt was a temporary failure
	permanent int       // permanent failures in a row
	lastErr   string
}

const permanentRun = 3

func (s *smtpHealth) record(ok, temporary bool, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok {
		s.since, s.deferred, s.permanent, s.lastErr = time.Time{}, false, 0, ""
		return
	}
	if s.since.IsZero() {
		s.since = s.now()
	}
	s.deferred, s.lastErr = temporary, reason
	if temporary {
		s.permanent = 0
	} else {
		s.permanent++
	}
}

func (s *smtpHealth) failing() (what string, since time.Time, bad bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.deferred:
		return "sending deferred: " + s.lastErr, s.since, true
	case s.permanent >= permanentRun:
		return fmt.Sprintf("the last %d mails failed: %s", s.permanent, s.lastErr), s.since, true
	}
	return "", time.Time{}, false
}

// healthOutbox is the desk's outbox as the sender sees it, recording each
// attempt's result for the smtp check.
type healthOutbox struct {
	mailout.Outbox
	h *smtpHealth
}

var _ mailout.Outbox = healthOutbox{}

func (o healthOutbox) Sent(ctx context.Context, sent []mailout.SentMail) error {
	o.h.record(true, false, "")
	return o.Outbox.Sent(ctx, sent)
}

func (o healthOutbox) Retry(ctx context.Context, id int64, r mailout.Result, next time.Time) error {
	o.h.record(false, true, mailout.Describe(r.Err))
	return o.Outbox.Retry(ctx, id, r, next)
}

func (o healthOutbox) Failed(ctx context.Context, it mailout.Item, r mailout.Result) error {
	o.h.record(false, false, mailout.Describe(r.Err))
	return o.Outbox.Failed(ctx, it, r)
}
