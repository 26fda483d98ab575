// Package daemon wires helpdeskd together: store, desk, IMAP fetcher,
// SMTP sender, timer scheduler and the HTTP health and metrics endpoint.
// `helpdeskd serve` and `helpdeskd demo` both run it. It owns start-up and
// the two-phase shutdown; no business rules live here.
package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"helpdeskd/cases"
	"helpdeskd/config"
	"helpdeskd/mailin"
	"helpdeskd/mailout"
	"helpdeskd/store"
)

// Options tune a run. Zero values: time.Now, slog.Default(), 10s drain.
type Options struct {
	Now     func() time.Time
	Logger  *slog.Logger
	Drain   time.Duration
	OnEvent func(cases.Event)
	OnSent  func(cases.Outgoing)
	OnReady func(idle bool)
	// Reload, if set, makes the daemon read its configuration file again
	// each time it receives (serve sends on SIGHUP). OnReload, if set, is
	// called after each reload with its error (nil: the new configuration
	// is in use).
	Reload   <-chan struct{}
	OnReload func(error)
	// IMAPTLS and SMTPInsecure are for tests against self-signed servers.
	IMAPTLS *tls.Config
}

// Run runs the daemon until ctx is done, then drains the outbox for at
// most Options.Drain and returns. It holds the lock of the database
// (see Lock) while it runs, and creates the database if needed.
func Run(ctx context.Context, cfg *config.Config, opts Options) error {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	release, err := Lock(cfg.Database.Path)
	if err != nil {
		return err
	}
	defer release()
	db, err := store.Create(ctx, cfg.Database.Path)
	if err != nil {
		return err
	}
	defer db.Close()

	srv, err := mailout.ParseServer(cfg.SMTP.Address, string(cfg.SMTP.TLS), cfg.SMTP.Username, cfg.SMTP.Password, cfg.SMTP.HELO, cfg.SMTP.InsecureSkipVerify)
	if err != nil {
		return err
	}
	ref := &deskRef{reloaded: make(chan struct{}, 1)}
	smtpH := &smtpHealth{now: now}
	sender := &mailout.Sender{Server: srv, From: cfg.SMTP.From, Outbox: healthOutbox{ref.outbox(), smtpH}, Now: opts.Now,
		Logger: log.With("worker", "smtp"), OnSent: func(o cases.Outgoing) {
			mailOutTotal.WithLabelValues(o.Kind).Inc()
			if opts.OnSent != nil {
				opts.OnSent(o)
			}
		}}
	sender.Init()
	b := &builder{db: db, opts: opts, log: log, kick: sender.Kick, wake: ref.wakeTimers, onEvent: opts.OnEvent}
	d, err := b.desk(cfg)
	if err != nil {
		return err
	}
	ref.p.Store(d)

	fetcher := NewFetcher(cfg, opts.IMAPTLS)
	fetcher.Sink, fetcher.State, fetcher.Now = ref, ref, opts.Now
	fetcher.Logger, fetcher.OnReady = log.With("worker", "imap"), opts.OnReady
	if isatty.IsTerminal(os.Stderr.Fd()) {
		fetcher.Progress = os.Stderr // the first sync's progress bar (SPEC §11.1)
	}

	loc := cfg.Display.Location
	if loc == nil {
		loc = time.Local
	}
	hc := &healthChecks{now: now, loc: loc, db: db, fetch: fetcher, smtp: smtpH, poll: cfg.Mailbox.PollInterval, started: now()}
	if cfg.HTTP.Listen != "" {
		reg := newRegistry(&dbCollector{db: db, now: now, fetch: fetcher, health: hc})
		hs, err := startHTTP(cfg.HTTP.Listen, hc, reg, log)
		if err != nil {
			return err
		}
		defer hs.Close()
	}

	// Phase one: intake (IMAP, timers) and sending run until ctx is done.
	sendCtx, stopSend := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSend()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return fetcher.Run(gctx) })
	g.Go(func() error { return ref.runTimers(gctx, opts.Now, log.With("worker", "timers")) })
	if opts.Reload != nil {
		g.Go(func() error {
			running := cfg
			for {
				select {
				case <-gctx.Done():
					return nil
				case <-opts.Reload:
				}
				next, err := reload(running, ref, b)
				if err != nil {
					log.Error("config reload failed, keeping the running configuration", "err", err)
				} else {
					running = next
					log.Info("config reloaded", "path", running.Path)
				}
				if opts.OnReload != nil {
					opts.OnReload(err)
				}
			}
		})
	}
	sendDone := make(chan error, 1)
	go func() { sendDone <- sender.Run(sendCtx) }()
	log.Info("helpdeskd running", "mailbox", cfg.Mailbox.Address, "smtp", cfg.SMTP.Address, "db", cfg.Database.Path)
	err = g.Wait()

	// Phase two: no new intake; give queued mail a bounded drain.
	drain := opts.Drain
	if drain == 0 {
		drain = 10 * time.Second
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drain)
	defer cancel()
	stopSend()
	<-sendDone
	if _, derr := sender.Drain(dctx); derr != nil && !errors.Is(derr, context.DeadlineExceeded) {
		log.Warn("drain outbox", "err", derr)
	}
	sender.Close()
	var ob store.OutboxStats
	qerr := db.Read(context.WithoutCancel(ctx), func(t *store.Txn) error {
		var err error
		ob, err = t.OutboxStats()
		return err
	})
	switch {
	case qerr != nil:
		log.Warn("helpdeskd stopped; outbox unreadable", "err", qerr)
	case ob.Queued > 0:
		log.Info("helpdeskd stopped; mail still queued is sent at the next start", "queued", ob.Queued)
	default:
		log.Info("helpdeskd stopped", "queued", 0)
	}
	return err
}

// NewFetcher returns the IMAP fetcher for the [mailbox] of cfg, without
// its Sink and State. tlsConf nil means the system roots and the server
// name of the address.
func NewFetcher(cfg *config.Config, tlsConf *tls.Config) *mailin.Fetcher {
	if tlsConf == nil {
		host, _, _ := net.SplitHostPort(cfg.Mailbox.Address)
		tlsConf = &tls.Config{ServerName: host, InsecureSkipVerify: cfg.Mailbox.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	}
	return &mailin.Fetcher{
		Address: cfg.Mailbox.Address, TLS: string(cfg.Mailbox.TLS), TLSConfig: tlsConf,
		Username: cfg.Mailbox.Username, Password: cfg.Mailbox.Password, Folder: cfg.Mailbox.Folder,
		ProcessedFolder: cfg.Mailbox.ProcessedFolder, QuarantineFolder: cfg.Mailbox.QuarantineFolder,
		PollInterval: cfg.Mailbox.PollInterval,
		// Owned by this daemon alone (the database lock), so leftovers
		// from a crash can be removed at start.
		SpoolDir: cfg.Database.SpoolDir(),
	}
}

func startHTTP(addr string, hc *healthChecks, reg *prometheus.Registry, log *slog.Logger) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if bad := hc.check(ctx); len(bad) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			for _, l := range bad {
				fmt.Fprintln(w, l)
			}
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http listen %s: %w", addr, err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "err", err)
		}
	}()
	return hs, nil
}
