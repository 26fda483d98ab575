package mailin

import (
	"errors"
	"sync"
	"time"
)

// Session stages, as named in a SessionError and in FetchHealth.Stage.
const (
	StageConnect = "connect" // dial, TLS, greeting
	StageLogin   = "login"   // LOGIN refused
	StageSelect  = "select"  // the folder cannot be opened
	StageSession = "session" // a logged-in session broke (sync, IDLE, connection lost)
)

// SessionError is an IMAP session failure and the stage it happened in,
// so that `helpdeskd check` and the health check can say which setting
// is at fault (a refused login is the password, a failed connect the
// address or TLS mode).
type SessionError struct {
	Stage string
	Err   error
}

func (e *SessionError) Error() string { return e.Err.Error() }
func (e *SessionError) Unwrap() error { return e.Err }

func stageErr(stage string, err error) error { return &SessionError{Stage: stage, Err: err} }

// FetchHealth is a snapshot of the fetcher's IMAP session, for the
// health check and metrics (SPEC §11.2).
type FetchHealth struct {
	// LoggedIn is true while a session is logged in with its folder
	// selected.
	LoggedIn bool
	// Since is when LoggedIn last changed: the login, or the first
	// failure after the session was lost. Zero before the first attempt
	// ended.
	Since time.Time
	// Stage and LastError describe the last failure; both are empty
	// after a successful login.
	Stage     string
	LastError string
	// LastSync is when the last sync that fetched everything new ended
	// (zero: none yet).
	LastSync time.Time
}

// healthState is the Fetcher's FetchHealth, updated by its session.
type healthState struct {
	mu sync.Mutex
	h  FetchHealth
}

// Health returns the current state of the IMAP session. It is safe to
// call from any goroutine.
func (f *Fetcher) Health() FetchHealth {
	f.health.mu.Lock()
	defer f.health.mu.Unlock()
	return f.health.h
}

func (f *Fetcher) now() time.Time {
	if f.Now == nil {
		return time.Now()
	}
	return f.Now()
}

// markUp records a logged-in session with its folder selected.
func (f *Fetcher) markUp() {
	now := f.now()
	f.health.mu.Lock()
	defer f.health.mu.Unlock()
	f.health.h = FetchHealth{LoggedIn: true, Since: now, LastSync: f.health.h.LastSync}
}

// markDown records the error a session ended with. Since stays at the
// first failure while the session keeps failing.
func (f *Fetcher) markDown(err error) {
	if err == nil {
		return
	}
	stage := StageSession
	var se *SessionError
	if errors.As(err, &se) {
		stage = se.Stage
	}
	now := f.now()
	f.health.mu.Lock()
	defer f.health.mu.Unlock()
	h := &f.health.h
	if h.LoggedIn || h.Since.IsZero() {
		h.Since = now
	}
	h.LoggedIn, h.Stage, h.LastError = false, stage, err.Error()
}

// markSynced records a sync that fetched everything new.
func (f *Fetcher) markSynced() {
	now := f.now()
	f.health.mu.Lock()
	defer f.health.mu.Unlock()
	f.health.h.LastSync = now
}

// idleRecheck is how long after the session's first IDLE began the
// fetcher syncs once more (see Fetcher.wait).
const idleRecheck = 200 * time.Millisecond
