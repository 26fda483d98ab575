// Command outbox measures helpdeskd's sender against the floor of the
// same SMTP server (issue 10.6): N queued replies sent from the outbox
// through mailout.Sender and the desk's outbox (each attempt and each
// outcome committed to SQLite), against a bare go-mail loop that sends
// the same messages over one connection and records nothing. The two
// alternate in chunks, so that both see the same machine; it prints both
// totals and their ratio.
//
// It runs against the real Postfix of the end-to-end suite: if E2E_SMTP
// is not set it starts one with e2e/mailstack.sh in a temporary
// directory (ports from E2E_*_PORT, as e2e/run.sh does) and stops it at
// the end.
//
//	go run ./bench/outbox -n 5000            # the sender as configured by default
//	go run ./bench/outbox -n 5000 -conns 1   # one connection, like the floor
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/mail"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"helpdeskd/cases"
	"helpdeskd/config"
	"helpdeskd/desk"
	"helpdeskd/internal/mailstack"
	"helpdeskd/mailout"
	"helpdeskd/store"
	"helpdeskd/templates"
)

// cfgText is the least configuration a desk accepts: only its outbox is used.
const cfgText = `
[mailbox]
address = "127.0.0.1:1"
username = "support@example.test"
password = "x"
[smtp]
address = "127.0.0.1:1"
from = "Support <support@example.test>"
[plans.any]
calendar = "always"
`

func main() {
	n := flag.Int("n", 5000, "queued replies per run")
	chunk := flag.Int("chunk", 250, "mails per chunk; the two senders alternate chunk by chunk")
	conns := flag.Int("conns", 0, "sender connections (0: the sender's default)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the sender runs to this file")
	flag.Parse()
	log.SetFlags(0)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}

	addr := os.Getenv("E2E_SMTP")
	if addr == "" {
		dir, err := os.MkdirTemp("", "helpdeskd-bench-outbox")
		if err != nil {
			log.Fatal(err)
		}
		var stop func()
		addr, stop = startStack(dir)
		defer stop()
	}
	srv, err := mailout.ParseServer(addr, "none", "", "", "", false)
	if err != nil {
		log.Fatal(err)
	}
	from := &mail.Address{Name: "Support", Address: "support@example.test"}
	mails := replies(*n)
	ours, err := newRunner(srv, from, *conns)
	if err != nil {
		log.Fatal(err)
	}
	defer ours.close()

	// The two alternate chunk by chunk (ABBA), so that both see the same
	// machine: on a shared machine the load changes from second to second.
	var tOurs, tFloor time.Duration
	var ratios []float64
	for i, k := 0, 0; i < len(mails); i, k = i+*chunk, k+1 {
		part := mails[i:min(i+*chunk, len(mails))]
		var o, f time.Duration
		var err error
		if k%2 == 0 {
			if o, err = ours.send(part); err == nil {
				f, err = bare(srv, from, part)
			}
		} else {
			if f, err = bare(srv, from, part); err == nil {
				o, err = ours.send(part)
			}
		}
		if err != nil {
			log.Fatalf("chunk %d: %v", k+1, err)
		}
		tOurs, tFloor = tOurs+o, tFloor+f
		ratios = append(ratios, o.Seconds()/f.Seconds())
	}
	rate := func(d time.Duration) float64 { return float64(*n) / d.Seconds() }
	slices.Sort(ratios)
	fmt.Printf("outbox: %d queued replies to Postfix via helpdeskd's sender (%s): %.2fs (%.0f mails/s)\n",
		*n, connsLabel(*conns), tOurs.Seconds(), rate(tOurs))
	fmt.Printf("outbox floor: the same %d via a bare go-mail loop on one connection: %.2fs (%.0f mails/s)\n",
		*n, tFloor.Seconds(), rate(tFloor))
	fmt.Printf("outbox ratio: %.2f (median of %d chunks of %d: %.2f; target <= 1.2)\n",
		tOurs.Seconds()/tFloor.Seconds(), len(ratios), *chunk, ratios[len(ratios)/2])
}

func connsLabel(n int) string {
	if n == 0 {
		return "default connections"
	}
	return fmt.Sprintf("%d connection(s)", n)
}

// replies are n realistic outgoing mails: acknowledgements and status
// replies in Chinese, threaded, to addresses Postfix accepts and discards.
func replies(n int) []cases.Outgoing {
	body := strings.Repeat("我们已收到您的故障申报，工程师正在处理，请保留主题中的服务单号。\n", 12)
	out := make([]cases.Outgoing, n)
	for i := range out {
		c := int64(i + 1)
		kind := "ack"
		hdr := map[string]string{"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
		if i%3 == 1 {
			kind = "status"
			hdr = map[string]string{"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}
		}
		out[i] = cases.Outgoing{Case: c, Kind: kind, To: []string{fmt.Sprintf("customer%d@evil.test", i%500)},
			Subject:   fmt.Sprintf("[Case#%d] 打印机无法打印", c),
			Text:      fmt.Sprintf("客户%d，您好：\n\n%s\n服务单号：%d\n", i, body, c),
			MessageID: fmt.Sprintf("case-%d.%s.%d@example.test", c, kind, time.Now().UnixNano()),
			InReplyTo: fmt.Sprintf("m%d@evil.test", i), References: []string{fmt.Sprintf("m%d@evil.test", i)}, Headers: hdr}
	}
	return out
}

// bare sends the mails with go-mail over one connection, as a program
// with nothing to record would: the floor.
func bare(srv mailout.Server, from *mail.Address, mails []cases.Outgoing) (time.Duration, error) {
	c, err := mailout.NewClient(srv)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := c.DialWithContext(context.Background()); err != nil {
		return 0, err
	}
	defer c.Close()
	for _, o := range mails {
		o.MessageID = "floor." + o.MessageID
		m, err := mailout.Build(o, from, nil)
		if err != nil {
			return 0, err
		}
		if err := c.Send(m); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// runner is helpdeskd's sending side: a database with the desk's outbox,
// and a mailout.Sender on it.
type runner struct {
	dir  string
	db   *store.DB
	s    *mailout.Sender
	sent int
}

func newRunner(srv mailout.Server, from *mail.Address, conns int) (*runner, error) {
	dir, err := os.MkdirTemp("", "helpdeskd-bench-outbox-db")
	if err != nil {
		return nil, err
	}
	r := &runner{dir: dir}
	if r.db, err = store.Open(context.Background(), filepath.Join(dir, "bench.db")); err != nil {
		return nil, err
	}
	cfg, err := config.Parse("bench.toml", []byte(cfgText))
	if err != nil {
		return nil, err
	}
	tmpl, err := templates.Load("")
	if err != nil {
		return nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := desk.New(cfg, r.db, tmpl, desk.Options{Logger: quiet})
	r.s = &mailout.Sender{Server: srv, From: from, Outbox: d.Outbox(), Logger: quiet, Connections: conns,
		OnSent: func(cases.Outgoing) { r.sent++ }}
	return r, nil
}

// send queues the mails (not timed) and times the sender until every one
// is recorded as sent.
func (r *runner) send(mails []cases.Outgoing) (time.Duration, error) {
	ctx := context.Background()
	err := r.db.Tx(ctx, func(t *store.Txn) error {
		for _, o := range mails {
			o.Case = 0 // no case rows: only the outbox is measured
			if err := t.Enqueue(&o, time.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	before := r.sent
	start := time.Now()
	if _, err := r.s.Drain(ctx); err != nil {
		return 0, err
	}
	took := time.Since(start)
	if r.sent-before != len(mails) {
		return 0, fmt.Errorf("%d of %d mails sent", r.sent-before, len(mails))
	}
	return took, nil
}

func (r *runner) close() {
	r.s.Close()
	r.db.Close()
	os.RemoveAll(r.dir)
}

// startStack starts Postfix and Dovecot with e2e/mailstack.sh and returns
// the SMTP address and the function that stops them.
func startStack(dir string) (smtpAddr string, stop func()) {
	env, err := mailstack.Start(dir)
	if err != nil {
		log.Fatal(err)
	}
	return env["E2E_SMTP"], func() {
		if err := mailstack.Stop(dir, os.Stderr); err != nil {
			log.Printf("stop mail stack: %v", err)
		}
		os.RemoveAll(dir)
	}
}
