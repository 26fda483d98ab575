// Package mailin reads customer mail: an IMAP fetcher that picks up new
// messages by UID (with IDLE where the server offers it, polling
// otherwise), and an I/O-free parser that turns one RFC 5322 message into
// a Message (SPEC §2).
//
// It owns the IMAP session, the UID bookkeeping on the server side and the
// decoding of mail. It does not decide anything about cases: every message
// goes to a Sink, and only after the Sink has committed it is the message
// flagged and moved.
package mailin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net"
	"runtime/debug"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/charset"
	"github.com/schollz/progressbar/v3"
)

// Place is where a message sits on the server, and when it arrived there.
type Place struct {
	Mailbox     string
	UIDValidity uint32
	UID         uint32
	// InternalDate is the server's INTERNALDATE of the message (RFC 9051
	// 2.3.3); zero when unknown.
	InternalDate time.Time
	// FirstSync is when the first sync of the folder began (SPEC §11.1),
	// for every message that sync delivers; zero for later syncs.
	FirstSync time.Time
}

// Outcome is what became of a delivered message, for the first-sync
// summary (SPEC §11.1) and the metrics.
type Outcome string

// Outcomes.
const (
	Answered    Outcome = "answered"    // opened a new case, handled as new mail
	Threaded    Outcome = "threaded"    // added to an existing case
	Archived    Outcome = "archived"    // old backlog mail: stored as history, nothing sent
	Quarantined Outcome = "quarantined" // unreadable: kept raw, moved to quarantine
	Duplicate   Outcome = "duplicate"   // seen before: nothing changed
	Kept        Outcome = "kept"        // stored without action (own, automatic or ignored mail)
)

// Mail is one fetched message and where it sits.
type Mail struct {
	Place
	Raw []byte // the whole message; nil when it is in Spool
	// Spool holds a large message instead of Raw (see SpoolFrom): from
	// the fetcher a *Spool, a file read in place that stays valid through
	// Prepare until Deliver returns. Nil for a message in Raw.
	Spool Source
	// Prepared is what a Preparer's Prepare left for its Deliver; nil
	// when the Sink is none or Prepare did not run.
	Prepared any
}

// Preparer is a Sink that works on a chunk ahead of delivering it (parsing,
// say): the fetcher calls Prepare on each chunk before it hands the chunk
// to Deliver, on another goroutine than the one delivering the chunk
// before, so the two overlap. Prepare must not commit anything.
type Preparer interface {
	Prepare(mails []Mail)
}

// Source is a message's bytes read in place rather than held in memory:
// Size() bytes, read with ReadAt. A *Spool is one, and so are a
// *bytes.Reader and an *io.SectionReader.
type Source interface {
	io.ReaderAt
	Size() int64
}

var _ Source = (*Spool)(nil)

// Sink takes new messages, a chunk at a time, in UID order. It commits
// as it goes (a chunk may be one transaction) and returns the outcome of
// each message it committed — a prefix of mails, in order — and the error
// that stopped it, if any. Only committed messages are flagged and moved;
// the rest stay where they are and are offered again, the first failed
// one first.
type Sink interface {
	Deliver(ctx context.Context, mails []Mail) ([]Outcome, error)
}

// State is where the last processed UID is remembered (in the same
// transaction as the message, by the Sink).
type State interface {
	MailboxState(ctx context.Context, mailbox string) (uidvalidity, lastUID uint32, err error)
	// ResetMailbox records a new UIDVALIDITY with no UID processed yet.
	ResetMailbox(ctx context.Context, mailbox string, uidvalidity uint32) error
	// Quarantined reports whether a processed message was unreadable.
	Quarantined(ctx context.Context, p Place) (bool, error)
	// FirstSync returns the first sync of mailbox that is under way (SPEC
	// §11.1): when it began and the highest UID it covers. A zero start
	// means none is under way.
	FirstSync(ctx context.Context, mailbox string) (start time.Time, endUID uint32, err error)
	// BeginFirstSync records, in one transaction, uidvalidity with no UID
	// processed yet and a first sync begun at start that covers the UIDs
	// up to endUID. It is recorded before any of them is delivered, so a
	// restart in the middle goes on with the same start.
	BeginFirstSync(ctx context.Context, mailbox string, uidvalidity uint32, start time.Time, endUID uint32) error
	// EndFirstSync records that the first sync of mailbox is complete.
	EndFirstSync(ctx context.Context, mailbox string) error
}

// Fetcher watches one IMAP folder. Zero values: Folder "INBOX",
// PollInterval 30s, Logger slog.Default(), Batch 20, Now time.Now,
// Progress nil (progress of a long sync is logged every 10 s instead).
type Fetcher struct {
	Address          string // host:port
	TLS              string // implicit | starttls | none
	TLSConfig        *tls.Config
	Username         string
	Password         string
	Folder           string
	ProcessedFolder  string // "" = flag only
	QuarantineFolder string // "" = leave unreadable mail in place, flagged
	PollInterval     time.Duration
	Batch            int
	Sink             Sink
	State            State
	Logger           *slog.Logger
	// OnReady, if set, is called each time the fetcher has caught up and
	// waits for new mail (tests and the demo use it).
	OnReady func(idle bool)
	// Progress, if set, gets a progress bar of the first sync (a
	// terminal).
	Progress io.Writer
	// Now is the clock of Health and of the first sync's stamp; zero
	// value: time.Now.
	Now func() time.Time
	// SpoolDir is where a message larger than SpoolThreshold is kept
	// while it is delivered (see Spool). It is created (0700) when
	// needed, and the spool files a crash left in it are removed when Run
	// starts, so it must belong to this fetcher alone; the daemon uses a
	// directory beside its database. Zero value: os.TempDir(), which is
	// never swept.
	SpoolDir string
	// SpoolThreshold is the literal size in bytes above which a message
	// is spooled to a file instead of read into memory. Zero value:
	// SpoolFrom (1 MiB); negative: never spool.
	SpoolThreshold int64

	health healthState // see health.go
}

func (f *Fetcher) log() *slog.Logger {
	if f.Logger == nil {
		return slog.Default()
	}
	return f.Logger
}

func (f *Fetcher) folder() string {
	if f.Folder == "" {
		return "INBOX"
	}
	return f.Folder
}

// Run fetches mail until ctx is done. A server that is down or goes away
// is retried with backoff (1s doubling to 1 min); Run only returns when
// ctx is done.
func (f *Fetcher) Run(ctx context.Context) error {
	f.sweepSpool()
	backoff := time.Second
	for {
		start := time.Now()
		err := f.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		f.markDown(err)
		if time.Since(start) > time.Minute {
			backoff = time.Second
		}
		f.log().Warn("imap session ended, reconnecting", "mailbox", f.folder(), "addr", f.Address, "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Minute)
	}
}

func (f *Fetcher) dial(newMail chan struct{}) (*imapclient.Client, error) {
	opts := &imapclient.Options{
		TLSConfig:   f.TLSConfig,
		WordDecoder: &mime.WordDecoder{CharsetReader: charset.Reader},
		Dialer:      &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second},
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select { // runs on the reader goroutine: never block
					case newMail <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	switch f.TLS {
	case "none":
		return imapclient.DialInsecure(f.Address, opts)
	case "starttls":
		return imapclient.DialStartTLS(f.Address, opts)
	default:
		return imapclient.DialTLS(f.Address, opts)
	}
}

// Check connects, logs in and selects the folder, then logs out: the
// online part of `helpdeskd check`.
func (f *Fetcher) Check() error {
	c, err := f.dial(make(chan struct{}, 1))
	if err != nil {
		return stageErr(StageConnect, fmt.Errorf("connect %s: %w", f.Address, err))
	}
	defer c.Close()
	if err := c.Login(f.Username, f.Password).Wait(); err != nil {
		return stageErr(StageLogin, fmt.Errorf("login %s: %w", f.Username, err))
	}
	if _, err := c.Select(f.folder(), nil).Wait(); err != nil {
		return stageErr(StageSelect, fmt.Errorf("select %s: %w", f.folder(), err))
	}
	return c.Logout().Wait()
}

// session is one connection: log in, then sync and wait, until an error.
func (f *Fetcher) session(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			f.log().Error("imap session panic", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	newMail := make(chan struct{}, 1)
	c, err := f.dial(newMail)
	if err != nil {
		return stageErr(StageConnect, fmt.Errorf("connect %s: %w", f.Address, err))
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := c.Login(f.Username, f.Password).Wait(); err != nil {
		return stageErr(StageLogin, fmt.Errorf("login %s: %w", f.Username, err))
	}
	for _, folder := range []string{f.ProcessedFolder, f.QuarantineFolder} {
		if folder != "" {
			ensureFolder(c, folder)
		}
	}
	sel, err := c.Select(f.folder(), nil).Wait()
	if err != nil {
		return stageErr(StageSelect, fmt.Errorf("select %s: %w", f.folder(), err))
	}
	f.markUp()
	f.log().Info("imap connected", "mailbox", f.folder(), "addr", f.Address, "uidvalidity", sel.UIDValidity,
		"messages", sel.NumMessages, "idle", c.Caps().Has(imap.CapIdle))
	for recheck := true; ; recheck = false {
		n, err := f.sync(ctx, c, sel.UIDValidity)
		if err != nil {
			return err
		}
		f.markSynced()
		if n > 0 {
			// Mail is flowing: a NOOP has the server look for more now
			// (RFC 9051 6.1.2), where during IDLE it may only look on its
			// next mailbox check.
			if err := c.Noop().Wait(); err != nil {
				return fmt.Errorf("noop: %w", err)
			}
		}
		if err := f.wait(ctx, c, newMail, recheck); err != nil {
			return err
		}
	}
}

// ensureFolder creates a folder, ignoring "already exists".
func ensureFolder(c *imapclient.Client, name string) {
	_ = c.Create(name, nil).Wait()
}

// wait returns when new mail may have arrived: on EXISTS during IDLE, or
// after the poll interval (always, as a safety net). IDLE is restarted at
// least every 10 minutes with a NOOP in between, so a dead connection is
// noticed. With recheck (the session's first IDLE), IDLE ends once shortly
// after the server accepted it, for one more sync: a server may drop an
// EXISTS for mail that arrived just as IDLE began (imapmemserver does),
// and that mail would otherwise wait for the poll interval.
func (f *Fetcher) wait(ctx context.Context, c *imapclient.Client, newMail chan struct{}, recheck bool) error {
	poll := f.PollInterval
	if poll <= 0 {
		poll = 30 * time.Second
	}
	// Drain a notification that arrived while we were syncing: that mail
	// may be one we have not fetched, so sync again at once.
	select {
	case <-newMail:
		return nil
	default:
	}
	idle := c.Caps().Has(imap.CapIdle)
	if f.OnReady != nil && !idle {
		f.OnReady(false)
	}
	timer := time.NewTimer(min(poll, 10*time.Minute))
	defer timer.Stop()
	if !idle {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-newMail:
			return nil
		case <-timer.C:
			return c.Noop().Wait()
		}
	}
	cmd, err := c.Idle() // returns once the server has accepted IDLE
	if err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	if f.OnReady != nil {
		f.OnReady(true)
	}
	var settle <-chan time.Time
	if recheck {
		settle = time.After(idleRecheck)
	}
	select {
	case <-ctx.Done():
	case <-newMail:
	case <-timer.C:
	case <-settle:
	case <-c.Closed():
		return errors.New("connection closed")
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("idle done: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	return ctx.Err()
}

// sync fetches every message above the last processed UID, in UID order,
// hands each to the Sink, then flags and moves the processed ones, and
// returns how many it delivered. It also moves processed messages left
// behind by a crash between commit and move.
//
// A folder with no stored state gets its first sync (SPEC §11.1): its
// start and the highest UID it covers are stored before any message is
// delivered, and every message up to that UID carries the start in
// Place.FirstSync, also after a restart in the middle.
func (f *Fetcher) sync(ctx context.Context, c *imapclient.Client, uidValidity uint32) (int, error) {
	folder := f.folder()
	storedValidity, last, err := f.State.MailboxState(ctx, folder)
	if err != nil {
		return 0, fmt.Errorf("mailbox state: %w", err)
	}
	fsStart, fsEnd, err := f.State.FirstSync(ctx, folder)
	if err != nil {
		return 0, fmt.Errorf("first sync state: %w", err)
	}
	var all imap.UIDSet
	all.AddRange(1, 0)
	sd, err := c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{all}, NotFlag: []imap.Flag{imap.FlagDeleted}}, nil).Wait()
	if err != nil {
		return 0, fmt.Errorf("search: %w", err)
	}
	uids := slices.DeleteFunc(sd.AllUIDs(), func(u imap.UID) bool { return u == 0 })
	slices.Sort(uids)
	if storedValidity != uidValidity {
		var top uint32
		if len(uids) > 0 {
			top = uint32(uids[len(uids)-1])
		}
		// RFC 3501 2.3.1.1: UIDs of the old validity mean nothing now.
		// Everything is fetched again; the Sink deduplicates by
		// Message-ID (or content hash), so nothing is handled twice.
		switch {
		case storedValidity == 0:
			fsStart, fsEnd = f.now(), top
			f.log().Info("first sync", "mailbox", folder, "messages", len(uids))
			err = f.State.BeginFirstSync(ctx, folder, uidValidity, fsStart, fsEnd)
		case !fsStart.IsZero() && last < fsEnd:
			// Still the first sync: the rest of the backlog keeps its start.
			f.log().Warn("uidvalidity changed during the first sync, rescanning mailbox", "mailbox", folder, "old", storedValidity, "new", uidValidity)
			fsEnd = top
			err = f.State.BeginFirstSync(ctx, folder, uidValidity, fsStart, fsEnd)
		default:
			f.log().Warn("uidvalidity changed, rescanning mailbox", "mailbox", folder, "old", storedValidity, "new", uidValidity)
			fsStart = time.Time{}
			err = f.State.ResetMailbox(ctx, folder, uidValidity)
		}
		if err != nil {
			return 0, err
		}
		last = 0
	}
	var first *firstSync
	if !fsStart.IsZero() {
		first = &firstSync{start: fsStart, end: fsEnd, counts: map[Outcome]int{}}
	}
	var pending, leftover []imap.UID
	for _, u := range uids {
		if uint32(u) > last { // LIBNOTES pitfall 6: n:* may return a UID below n
			pending = append(pending, u)
		} else {
			leftover = append(leftover, u)
		}
	}
	if err := f.finishLeftovers(ctx, c, uidValidity, last, leftover); err != nil {
		return 0, err
	}
	if len(pending) > 0 {
		f.log().Info("new mail", "mailbox", folder, "count", len(pending))
	}
	if err := f.deliverAll(ctx, c, uidValidity, pending, first); err != nil {
		return 0, err
	}
	if first == nil {
		return len(pending), nil
	}
	if err := f.State.EndFirstSync(ctx, folder); err != nil {
		return 0, fmt.Errorf("end first sync: %w", err)
	}
	f.log().Info("first sync done", "mailbox", folder, "archived", first.counts[Archived],
		"answered", first.counts[Answered], "threaded", first.counts[Threaded],
		"quarantined", first.counts[Quarantined], "duplicate", first.counts[Duplicate], "kept", first.counts[Kept],
		"seconds", int(f.now().Sub(first.start).Seconds()))
	return len(pending), nil
}

// firstSync is a first sync under way (SPEC §11.1).
type firstSync struct {
	start  time.Time
	end    uint32 // highest UID it covers
	counts map[Outcome]int
}

// fetched is one message read from the server: in raw, or, when it is
// large, in spool.
type fetched struct {
	uid   imap.UID
	raw   []byte
	spool *Spool
	date  time.Time // INTERNALDATE
}

// drop removes the spool files of msgs.
func drop(log *slog.Logger, msgs ...fetched) {
	for _, m := range msgs {
		removeSpool(log, uint32(m.uid), m.spool)
	}
}

// dropMails removes the spool files of mails, once the Sink is done with
// them.
func dropMails(log *slog.Logger, mails []Mail) {
	for _, m := range mails {
		if s, ok := m.Spool.(*Spool); ok {
			removeSpool(log, m.UID, s)
		}
	}
}

func removeSpool(log *slog.Logger, uid uint32, s *Spool) {
	if s == nil {
		return
	}
	if err := s.remove(); err != nil {
		log.Warn("remove spool file", "uid", uid, "err", err)
	}
}

// delivered is what became of one chunk: the committed UIDs by
// disposition, and the error that stopped it, if any.
type delivered struct {
	processed, quarantined []imap.UID
	err                    error
}

// chunkBytes caps the message bytes fetched in one FETCH command, so that
// the chunks in flight (one delivering, one waiting, one being read) stay
// small; a larger message is a chunk of its own, fetched only when the
// deliverer is idle.
const chunkBytes = 2 << 20

// deliverAll fetches the pending UIDs in chunks and delivers them in UID
// order. Fetching the next chunk overlaps with delivering the current one
// on a second goroutine; every IMAP command stays on this one, and a
// chunk is flagged and moved only between FETCH commands, after the Sink
// committed it (LIBNOTES pitfall 3: while a FETCH is open the client
// reads nothing else). Delivery stops at the first failed UID: nothing
// after it is delivered, so it is offered again first.
func (f *Fetcher) deliverAll(ctx context.Context, c *imapclient.Client, uidValidity uint32, pending []imap.UID, first *firstSync) error {
	if len(pending) == 0 {
		return nil
	}
	chunks, err := f.chunks(c, pending)
	if err != nil {
		return err
	}
	prog := f.newProgress(len(pending), first != nil)
	defer prog.close()
	work := make(chan []Mail, 1)
	done := make(chan delivered, len(chunks)+1)
	// Where the time of a long sync goes, for the debug log: the
	// deliverer waiting for a chunk, the fetcher for the deliverer, and
	// fetching and preparing.
	var starved, blocked, fetching, preparing time.Duration
	defer func() {
		f.log().Debug("sync pipeline", "mailbox", f.folder(), "chunks", len(chunks), "deliverer_waited", starved,
			"fetcher_waited", blocked, "fetching", fetching, "preparing", preparing)
	}()
	go func() {
		defer close(done)
		failed := false
		for {
			t0 := time.Now()
			msgs, ok := <-work
			starved += time.Since(t0)
			if !ok {
				break
			}
			if failed {
				dropMails(f.log(), msgs)
				done <- delivered{} // nothing after a failed UID is delivered
				continue
			}
			r := f.deliverChunk(ctx, msgs, first, prog)
			dropMails(f.log(), msgs)
			failed = r.err != nil
			done <- r
		}
	}()
	// finish takes a committed chunk back. Committed mail is flagged and
	// moved a few chunks at a time (finishEvery), not after each one: a
	// MOVE costs the server about as much for twenty mails as for a
	// thousand. Mail committed but not yet moved when the process stops
	// is moved at the next start (finishLeftovers), never delivered
	// again. The first error wins; what was committed is still flagged
	// and moved after an error (if the server is what failed, that fails
	// too, and the next start does it).
	var firstErr error
	sent, got := 0, 0 // chunks handed to the deliverer, results back
	var unfinished delivered
	lastFinish := time.Now()
	flush := func() {
		if len(unfinished.processed)+len(unfinished.quarantined) > 0 {
			if err := f.finish(c, unfinished.processed, unfinished.quarantined); firstErr == nil {
				firstErr = err
			}
		}
		unfinished, lastFinish = delivered{}, time.Now()
	}
	finish := func(r delivered) {
		got++
		unfinished.processed = append(unfinished.processed, r.processed...)
		unfinished.quarantined = append(unfinished.quarantined, r.quarantined...)
		if r.err != nil || len(unfinished.processed)+len(unfinished.quarantined) >= finishEvery || time.Since(lastFinish) >= finishAfter {
			flush()
		}
		if firstErr == nil {
			firstErr = r.err
		}
	}
	for _, ch := range chunks {
		if ch.bytes > chunkBytes {
			// A large message is fetched once the deliverer is idle, so
			// that only one is held at a time: spooled to a file (see
			// SpoolFrom), or in memory when spooling is off.
			for got < sent && firstErr == nil {
				finish(<-done)
			}
			if firstErr != nil {
				break
			}
		}
		t0 := time.Now()
		msgs, err := f.fetchChunk(c, ch.uids)
		t1 := time.Now()
		fetching += t1.Sub(t0)
		if len(msgs) > 0 {
			mails := f.prepare(uidValidity, msgs, first)
			t2 := time.Now()
			preparing += t2.Sub(t1)
			work <- mails
			blocked += time.Since(t2)
			sent++
		}
		if err != nil {
			firstErr = err
			break
		}
	ready:
		for {
			select {
			case r := <-done:
				finish(r)
			default:
				break ready
			}
		}
		if firstErr != nil {
			break
		}
	}
	close(work)
	// Wait for the deliverer, after an error too: no delivery outlives
	// this sync. Then flag and move what it committed.
	for r := range done {
		finish(r)
	}
	flush()
	return firstErr
}

// Committed mail is flagged and moved once finishEvery messages wait, or
// finishAfter after the last time, and at the end of each sync.
const (
	finishEvery = 500
	finishAfter = 2 * time.Second
)

// prepare turns fetched messages into the Sink's mails, and has a
// Preparer work on them while the chunk before is being delivered.
func (f *Fetcher) prepare(uidValidity uint32, msgs []fetched, first *firstSync) []Mail {
	mails := make([]Mail, len(msgs))
	for i, m := range msgs {
		mails[i] = Mail{Place: Place{Mailbox: f.folder(), UIDValidity: uidValidity, UID: uint32(m.uid), InternalDate: m.date}, Raw: m.raw}
		if m.spool != nil {
			mails[i].Spool = m.spool // never a nil *Spool in a non-nil Source
		}
		if first != nil && mails[i].UID <= first.end {
			mails[i].FirstSync = first.start
		}
	}
	if p, ok := f.Sink.(Preparer); ok {
		p.Prepare(mails)
	}
	return mails
}

// deliverChunk hands a chunk to the Sink and sorts what it committed by
// disposition; it stops at the first message the Sink could not commit.
func (f *Fetcher) deliverChunk(ctx context.Context, mails []Mail, first *firstSync, prog *progress) delivered {
	outs, err := f.Sink.Deliver(ctx, mails)
	var r delivered
	for i, out := range outs[:min(len(outs), len(mails))] {
		if !mails[i].FirstSync.IsZero() {
			first.counts[out]++
		}
		if out == Quarantined {
			r.quarantined = append(r.quarantined, imap.UID(mails[i].UID))
		} else {
			r.processed = append(r.processed, imap.UID(mails[i].UID))
		}
		prog.add()
	}
	if err == nil && len(outs) < len(mails) {
		err = errors.New("not delivered")
	}
	if err != nil && len(outs) < len(mails) {
		r.err = fmt.Errorf("deliver uid %d: %w", mails[len(outs)].UID, err)
	}
	return r
}

// chunk is the UIDs of one FETCH command and their RFC822.SIZE total.
type chunk struct {
	uids  []imap.UID
	bytes int64
}

// chunks splits the pending UIDs into FETCH commands of at most Batch
// messages and chunkBytes bytes, by their RFC822.SIZE.
func (f *Fetcher) chunks(c *imapclient.Client, pending []imap.UID) ([]chunk, error) {
	batch := f.Batch
	if batch <= 0 {
		batch = 20
	}
	sizes := map[imap.UID]int64{}
	if len(pending) > 1 {
		msgs, err := c.Fetch(imap.UIDSetNum(pending...), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
		if err != nil {
			return nil, fmt.Errorf("fetch sizes: %w", err)
		}
		for _, m := range msgs {
			sizes[m.UID] = m.RFC822Size
		}
	}
	var out []chunk
	var cur chunk
	for _, u := range pending {
		if len(cur.uids) > 0 && (len(cur.uids) >= batch || cur.bytes+sizes[u] > chunkBytes) {
			out = append(out, cur)
			cur = chunk{}
		}
		cur.uids = append(cur.uids, u)
		cur.bytes += sizes[u]
	}
	return append(out, cur), nil
}

// fetchChunk fetches the messages of one chunk, in UID order. On error it
// returns the messages before the UID that failed (and removes the spool
// files of those after it).
func (f *Fetcher) fetchChunk(c *imapclient.Client, chunk []imap.UID) (out []fetched, err error) {
	got, err := f.fetch(c, chunk)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, m := range out {
			delete(got, m.uid)
		}
		drop(f.log(), slices.Collect(maps.Values(got))...)
	}()
	for _, u := range chunk {
		m, ok := got[u]
		if !ok {
			// LIBNOTES pitfall 2: a server that sends the UID after the
			// literal makes the client drop the message. Ask for it alone.
			one, err := f.fetch(c, []imap.UID{u})
			if err != nil {
				return out, err
			}
			m, ok = one[u]
			delete(one, u)
			drop(f.log(), slices.Collect(maps.Values(one))...) // none, from a server that keeps to the request
			if !ok {
				// Gone (expunged by someone else), or unreadable by us.
				// Only skip it when the server confirms it is gone: a
				// higher UID delivered now would mark it processed.
				sd, err := c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{imap.UIDSetNum(u)}}, nil).Wait()
				if err != nil {
					return out, fmt.Errorf("search uid %d: %w", u, err)
				}
				if slices.Contains(sd.AllUIDs(), u) {
					return out, fmt.Errorf("uid %d exists but its body could not be fetched; not going past it", u)
				}
				f.log().Warn("message vanished before fetch", "uid", u)
				continue
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// finish flags committed messages and moves them where their disposition
// says: the processed or the quarantine folder, if configured.
func (f *Fetcher) finish(c *imapclient.Client, processed, quarantined []imap.UID) error {
	if err := f.flag(c, append(append([]imap.UID(nil), processed...), quarantined...)); err != nil {
		return err
	}
	if f.ProcessedFolder != "" && len(processed) > 0 {
		if err := f.move(c, processed, f.ProcessedFolder); err != nil {
			return err
		}
	}
	if f.QuarantineFolder != "" && len(quarantined) > 0 {
		if err := f.move(c, quarantined, f.QuarantineFolder); err != nil {
			return err
		}
	}
	return nil
}

// finishLeftovers completes messages that were committed (UID <= last)
// but not flagged or moved when the daemon last stopped: they are flagged
// and moved where their disposition says, never delivered again. With a
// processed folder every leftover is one; without, only those still
// without \Seen are looked at (flag-only mode keeps mail in the folder).
func (f *Fetcher) finishLeftovers(ctx context.Context, c *imapclient.Client, uidValidity, last uint32, leftover []imap.UID) error {
	if len(leftover) == 0 {
		return nil
	}
	if f.ProcessedFolder == "" {
		var upto imap.UIDSet
		upto.AddRange(1, imap.UID(last))
		sd, err := c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{upto},
			NotFlag: []imap.Flag{imap.FlagSeen, imap.FlagDeleted}}, nil).Wait()
		if err != nil {
			return fmt.Errorf("search unflagged: %w", err)
		}
		leftover = leftover[:0]
		for _, u := range sd.AllUIDs() {
			if u > 0 && uint32(u) <= last {
				leftover = append(leftover, u)
			}
		}
		if len(leftover) == 0 {
			return nil
		}
	}
	var processed, quarantined []imap.UID
	for _, u := range leftover {
		q, err := f.State.Quarantined(ctx, Place{Mailbox: f.folder(), UIDValidity: uidValidity, UID: uint32(u)})
		if err != nil {
			return err
		}
		if q {
			quarantined = append(quarantined, u)
		} else {
			processed = append(processed, u)
		}
	}
	return f.finish(c, processed, quarantined)
}

// fetch returns the raw bytes (or spool file) and INTERNALDATE of the
// given UIDs (BODY.PEEK[]: reading never sets \Seen). A literal larger
// than the spool threshold goes from the connection to a spool file
// without passing through memory. On error no spool file is left.
func (f *Fetcher) fetch(c *imapclient.Client, uids []imap.UID) (map[imap.UID]fetched, error) {
	sec := &imap.FetchItemBodySection{Peek: true}
	cmd := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, InternalDate: true,
		BodySection: []*imap.FetchItemBodySection{sec}})
	out := map[imap.UID]fetched{}
	fail := func(m fetched, err error) (map[imap.UID]fetched, error) {
		cmd.Close()
		drop(f.log(), m)
		drop(f.log(), slices.Collect(maps.Values(out))...)
		return nil, err
	}
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		var m fetched
		got := false
		for it := msg.Next(); it != nil; it = msg.Next() {
			switch it := it.(type) {
			case imapclient.FetchItemDataUID:
				m.uid = it.UID
			case imapclient.FetchItemDataInternalDate:
				m.date = it.Time
			case imapclient.FetchItemDataBodySection:
				if it.Literal != nil && !got {
					var err error
					if m.raw, m.spool, err = f.readBody(it.Literal); err != nil {
						return fail(m, fmt.Errorf("read body: %w", err))
					}
					got = true
				}
			}
		}
		if _, dup := out[m.uid]; m.uid == 0 || !got || dup {
			drop(f.log(), m) // not ours to deliver (LIBNOTES pitfall 2), or sent twice
			continue
		}
		out[m.uid] = m
	}
	if err := cmd.Close(); err != nil {
		return fail(fetched{}, fmt.Errorf("fetch: %w", err))
	}
	return out, nil
}

// ReadLiteral reads a literal into a buffer of its announced size, so a
// large message is held once rather than in a doubling buffer.
func ReadLiteral(l imap.LiteralReader) ([]byte, error) {
	n := l.Size()
	if n < 0 || n > 1<<31 {
		return io.ReadAll(l)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(l, b); err != nil {
		return nil, err
	}
	return b, nil
}

func (f *Fetcher) flag(c *imapclient.Client, uids []imap.UID) error {
	if len(uids) == 0 {
		return nil
	}
	err := c.Store(imap.UIDSetNum(uids...), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
		Flags: []imap.Flag{imap.FlagSeen}}, nil).Close()
	if err != nil {
		return fmt.Errorf("flag: %w", err)
	}
	return nil
}

// move moves messages to folder. It does not use the client's Move
// fallback, which deletes the source even when COPY failed and may
// expunge other clients' deleted mail (LIBNOTES pitfall 1): without MOVE
// it copies, and only after a successful copy marks the originals
// \Deleted, expunging them only by UID (UIDPLUS).
func (f *Fetcher) move(c *imapclient.Client, uids []imap.UID, folder string) error {
	set := imap.UIDSetNum(uids...)
	if c.Caps().Has(imap.CapMove) {
		if _, err := c.Move(set, folder).Wait(); err != nil {
			return fmt.Errorf("move to %s: %w", folder, err)
		}
		return nil
	}
	if _, err := c.Copy(set, folder).Wait(); err != nil {
		return fmt.Errorf("copy to %s: %w", folder, err)
	}
	if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		return fmt.Errorf("mark deleted: %w", err)
	}
	if c.Caps().Has(imap.CapUIDPlus) {
		if err := c.UIDExpunge(set).Close(); err != nil {
			return fmt.Errorf("expunge: %w", err)
		}
	}
	return nil
}

// progress shows how far a long sync is: a bar on Fetcher.Progress for the
// first sync, and a log line every 10 s otherwise.
type progress struct {
	f           *Fetcher
	bar         *progressbar.ProgressBar
	total, done int
	first       bool
	last        time.Time
}

func (f *Fetcher) newProgress(total int, first bool) *progress {
	p := &progress{f: f, total: total, first: first, last: f.now()}
	if first && f.Progress != nil && total > 1 {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(f.Progress),
			progressbar.OptionSetDescription("first sync "+f.folder()), progressbar.OptionShowCount(),
			progressbar.OptionShowIts(), progressbar.OptionSetItsString("mails"),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	return p
}

func (p *progress) add() {
	p.done++
	if p.bar != nil {
		_ = p.bar.Add(1)
		return
	}
	if p.total <= 50 {
		return
	}
	if now := p.f.now(); now.Sub(p.last) >= 10*time.Second {
		p.last = now
		p.f.log().Info("sync progress", "mailbox", p.f.folder(), "first_sync", p.first, "done", p.done, "total", p.total)
	}
}

func (p *progress) close() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
