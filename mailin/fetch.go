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
	"mime"
	"net"
	"runtime/debug"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/charset"
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

// Disposition says where the message goes on the server.
func (o Outcome) Disposition() Disposition {
	if o == Quarantined {
		return Quarantine
	}
	return Processed
}

// Disposition is what to do with a message after the Sink took it.
type Disposition int

// Dispositions.
const (
	Processed  Disposition = iota // flag, and move to the processed folder if set
	Quarantine                    // unreadable: move to the quarantine folder
)

// Sink takes each new message. It must commit before returning nil; on
// error the message stays where it is and is offered again.
type Sink interface {
	Deliver(ctx context.Context, p Place, raw []byte) (Outcome, error)
}

// State is where the last processed UID is remembered (in the same
// transaction as the message, by the Sink).
type State interface {
	MailboxState(ctx context.Context, mailbox string) (uidvalidity, lastUID uint32, err error)
	// ResetMailbox records a new UIDVALIDITY with no UID processed yet.
	ResetMailbox(ctx context.Context, mailbox string, uidvalidity uint32) error
	// Quarantined reports whether a processed message was unreadable.
	Quarantined(ctx context.Context, p Place) (bool, error)
}

// Fetcher watches one IMAP folder. Zero values: Folder "INBOX",
// PollInterval 30s, Logger slog.Default(), Batch 20.
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
	// Now is the clock of Health; zero value: time.Now.
	Now func() time.Time

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
		if err := f.sync(ctx, c, sel.UIDValidity); err != nil {
			return err
		}
		f.markSynced()
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
// hands each to the Sink, then flags and moves the processed ones. It also
// moves processed messages left behind by a crash between commit and move.
func (f *Fetcher) sync(ctx context.Context, c *imapclient.Client, uidValidity uint32) error {
	folder := f.folder()
	storedValidity, last, err := f.State.MailboxState(ctx, folder)
	if err != nil {
		return fmt.Errorf("mailbox state: %w", err)
	}
	if storedValidity != uidValidity {
		// RFC 3501 2.3.1.1: UIDs of the old validity mean nothing now.
		// Everything is fetched again; the Sink deduplicates by
		// Message-ID (or content hash), so nothing is handled twice.
		if storedValidity != 0 {
			f.log().Warn("uidvalidity changed, rescanning mailbox", "mailbox", folder, "old", storedValidity, "new", uidValidity)
		}
		if err := f.State.ResetMailbox(ctx, folder, uidValidity); err != nil {
			return err
		}
		last = 0
	}
	var all imap.UIDSet
	all.AddRange(1, 0)
	sd, err := c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{all}, NotFlag: []imap.Flag{imap.FlagDeleted}}, nil).Wait()
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	uids := sd.AllUIDs()
	slices.Sort(uids)
	var pending, leftover []imap.UID
	for _, u := range uids {
		if uint32(u) == 0 {
			continue
		}
		if uint32(u) > last { // LIBNOTES pitfall 6: n:* may return a UID below n
			pending = append(pending, u)
		} else {
			leftover = append(leftover, u)
		}
	}
	if err := f.finishLeftovers(ctx, c, uidValidity, last, leftover); err != nil {
		return err
	}
	if len(pending) > 0 {
		f.log().Info("new mail", "mailbox", folder, "count", len(pending))
	}
	batch := f.Batch
	if batch <= 0 {
		batch = 20
	}
	for i := 0; i < len(pending); i += batch {
		chunk := pending[i:min(i+batch, len(pending))]
		if err := f.fetchChunk(ctx, c, uidValidity, chunk, i, len(pending)); err != nil {
			return err
		}
	}
	return nil
}

func (f *Fetcher) fetchChunk(ctx context.Context, c *imapclient.Client, uidValidity uint32, chunk []imap.UID, done, total int) error {
	bodies, err := f.fetch(c, chunk)
	if err != nil {
		return err
	}
	var processed, quarantined []imap.UID
	for _, u := range chunk {
		raw, ok := bodies[u]
		if !ok {
			// LIBNOTES pitfall 2: a server that sends the UID after the
			// literal makes the client drop the message. Ask for it alone.
			one, err := f.fetch(c, []imap.UID{u})
			if err != nil {
				return err
			}
			if raw, ok = one[u]; !ok {
				// Gone (expunged by someone else), or unreadable by us.
				// Only skip it when the server confirms it is gone: a
				// higher UID delivered now would mark it processed.
				sd, err := c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{imap.UIDSetNum(u)}}, nil).Wait()
				if err != nil {
					return fmt.Errorf("search uid %d: %w", u, err)
				}
				if slices.Contains(sd.AllUIDs(), u) {
					return fmt.Errorf("uid %d exists but its body could not be fetched; not going past it", u)
				}
				f.log().Warn("message vanished before fetch", "uid", u)
				continue
			}
		}
		out, err := f.Sink.Deliver(ctx, Place{Mailbox: f.folder(), UIDValidity: uidValidity, UID: uint32(u)}, raw)
		if err != nil {
			return fmt.Errorf("deliver uid %d: %w", u, err)
		}
		if out.Disposition() == Quarantine {
			quarantined = append(quarantined, u)
		} else {
			processed = append(processed, u)
		}
	}
	if total > 50 {
		f.log().Info("import progress", "done", done+len(chunk), "total", total)
	}
	return f.finish(c, processed, quarantined)
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

// fetch returns the raw bytes of the given UIDs (BODY.PEEK[]: reading
// never sets \Seen).
func (f *Fetcher) fetch(c *imapclient.Client, uids []imap.UID) (map[imap.UID][]byte, error) {
	sec := &imap.FetchItemBodySection{Peek: true}
	cmd := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{sec}})
	out := map[imap.UID][]byte{}
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		var uid imap.UID
		var raw []byte
		for it := msg.Next(); it != nil; it = msg.Next() {
			switch it := it.(type) {
			case imapclient.FetchItemDataUID:
				uid = it.UID
			case imapclient.FetchItemDataBodySection:
				if it.Literal != nil {
					b, err := io.ReadAll(it.Literal)
					if err != nil {
						cmd.Close()
						return nil, fmt.Errorf("read body: %w", err)
					}
					raw = b
				}
			}
		}
		if uid != 0 && raw != nil {
			out[uid] = raw
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	return out, nil
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
