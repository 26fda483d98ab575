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
	"helpdeskd/desk"
	"helpdeskd/mailin"
	"helpdeskd/mailout"
	"helpdeskd/store"
	"helpdeskd/templates"
)

// Options tune a run. Zero values: time.Now, slog.Default(), 10s drain.
type Options struct {
	Now     func() time.Time
	Logger  *slog.Logger
	Drain   time.Duration
	OnEvent func(cases.Event)
	OnSent  func(cases.Outgoing)
	OnReady func(idle bool)
	// IMAPTLS and SMTPInsecure are for tests against self-signed servers.
	IMAPTLS *tls.Config
}

// Run runs the daemon until ctx is done, then drains the outbox for at
// most Options.Drain and returns.
func Run(ctx context.Context, cfg *config.Config, opts Options) error {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	tmpl, err := templates.Load(cfg.Templates.Dir)
	if err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	db, err := store.Open(ctx, cfg.Database.Path)
	if err != nil {
		return err
	}
	defer db.Close()

	d := desk.New(cfg, db, tmpl, desk.Options{Now: opts.Now, Logger: log})
	d.OnEvent = func(e cases.Event) {
		eventsTotal.WithLabelValues(e.Kind).Inc()
		if opts.OnEvent != nil {
			opts.OnEvent(e)
		}
	}
	srv, err := mailout.ParseServer(cfg.SMTP.Address, string(cfg.SMTP.TLS), cfg.SMTP.Username, cfg.SMTP.Password, cfg.SMTP.HELO, cfg.SMTP.InsecureSkipVerify)
	if err != nil {
		return err
	}
	sender := &mailout.Sender{Server: srv, From: cfg.SMTP.From, Outbox: d.Outbox(), Now: opts.Now,
		Logger: log.With("worker", "smtp"), OnSent: func(o cases.Outgoing) {
			mailOutTotal.WithLabelValues(o.Kind).Inc()
			if opts.OnSent != nil {
				opts.OnSent(o)
			}
		}}
	sender.Init()
	d.Kick = sender.Kick
	sched := desk.NewScheduler(d, opts.Now, log.With("worker", "timers"))
	d.WakeTimers = sched.Wake

	fetcher := NewFetcher(cfg, opts.IMAPTLS)
	fetcher.Sink, fetcher.State = countingSink{d}, d
	fetcher.Logger, fetcher.OnReady, fetcher.Now = log.With("worker", "imap"), opts.OnReady, opts.Now
	if isatty.IsTerminal(os.Stderr.Fd()) {
		fetcher.Progress = os.Stderr // the first sync's progress bar (SPEC §11.1)
	}

	if cfg.HTTP.Listen != "" {
		hs, err := startHTTP(cfg.HTTP.Listen, db, log)
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
	g.Go(func() error { return sched.Run(gctx) })
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
	log.Info("helpdeskd stopped")
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
	}
}

type countingSink struct{ d *desk.Desk }

func (s countingSink) Deliver(ctx context.Context, p mailin.Place, raw []byte) (mailin.Outcome, error) {
	out, err := s.d.Deliver(ctx, p, raw)
	if err == nil {
		mailInTotal.Inc()
	}
	return out, err
}

var (
	mailInTotal  = prometheus.NewCounter(prometheus.CounterOpts{Name: "helpdeskd_mail_in_total", Help: "Incoming messages committed."})
	mailOutTotal = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "helpdeskd_mail_out_total", Help: "Mails sent, by kind."}, []string{"kind"})
	eventsTotal  = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "helpdeskd_events_total", Help: "Case events, by kind."}, []string{"kind"})
	registry     = prometheus.NewRegistry()
)

func init() {
	registry.MustRegister(mailInTotal, mailOutTotal, eventsTotal,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
}

func startHTTP(addr string, db *store.DB, log *slog.Logger) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := db.Read(ctx, func(t *store.Txn) error { _, err := t.CountTimers(); return err }); err != nil {
			http.Error(w, "database: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
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
