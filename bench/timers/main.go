// Command timers measures start-up recovery of helpdeskd's stored timers:
// a database with N open cases (three timers each), of which some timers
// fell due while the daemon was down, is opened by a fresh process, and
// the scheduler's first wakes fire every overdue timer. It prints the time
// to open the database, the time until all overdue timers have fired, how
// many fired, and the process's peak RSS.
//
//	go run ./bench/timers -n 100000 -overdue 1000
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"helpdeskd/cases"
	"helpdeskd/config"
	"helpdeskd/desk"
	"helpdeskd/store"
	"helpdeskd/templates"
)

const cfgText = `
[mailbox]
address = "imap.example.com:993"
username = "support@example.com"
password = "x"
[smtp]
address = "smtp.example.com:587"
from = "Support <support@example.com>"
[calendars.office]
timezone = "Asia/Shanghai"
hours = ["09:00-12:00", "13:30-18:00"]
[plans.5x8]
calendar = "office"
[[staff]]
name = "Eng"
email = "eng1@example.com"
roles = ["engineer"]
[[staff]]
name = "CSM"
email = "csm@example.com"
roles = ["customer_service_manager"]
`

var start = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func main() {
	n := flag.Int("n", 100_000, "open cases")
	overdue := flag.Int("overdue", 1000, "timers that fell due while the daemon was down")
	phase := flag.String("phase", "", "internal: setup or recover")
	db := flag.String("db", "", "internal: database path")
	flag.Parse()
	ctx := context.Background()
	cfg, err := config.Parse("bench.toml", []byte(cfgText))
	if err != nil {
		log.Fatal(err)
	}
	switch *phase {
	case "setup":
		setup(ctx, *db, *n, *overdue)
	case "recover":
		recoverTimers(ctx, cfg, *db)
	default:
		dir, err := os.MkdirTemp("", "helpdeskd-bench-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "bench.db")
		t0 := time.Now()
		run(os.Args[0], "-phase", "setup", "-db", path, "-n", fmt.Sprint(*n), "-overdue", fmt.Sprint(*overdue))
		fmt.Printf("setup: %d open cases, %d timers, %d overdue, in %v\n", *n, 3**n, *overdue, time.Since(t0).Round(time.Millisecond))
		run(os.Args[0], "-phase", "recover", "-db", path)
	}
}

func run(args ...string) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatal(err)
	}
}

func setup(ctx context.Context, path string, n, overdue int) {
	db, err := store.Open(ctx, path)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	far := start.Add(1000 * time.Hour)
	err = db.Tx(ctx, func(t *store.Txn) error {
		for i := 0; i < n; i++ {
			c := &cases.Case{Subject: "bench", Status: cases.StatusOpen, Severity: 3, Priority: "normal",
				Company: "ACME", ContactEmail: "alice@acme.test", Plan: "5x8", Engineer: "eng1@example.com",
				Language: "zh", OpenedAt: start, AssignedAt: start, RespondBy: far, SolveOnlineBy: far, RepliesSent: 2,
				LastReplyAt: far.Add(-time.Hour), StuckEscalated: true}
			if err := t.InsertCase(c); err != nil {
				return err
			}
			daily := far
			if i < overdue {
				daily = start.Add(time.Duration(i) * time.Second) // fell due while down
			}
			for _, tm := range []cases.Timer{{Kind: "reply", Due: far}, {Kind: "respond", Due: far}, {Kind: "daily", Due: daily}} {
				tm.Case = c.Number
				if err := t.SetTimer(tm); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
}

func recoverTimers(ctx context.Context, cfg *config.Config, path string) {
	now := start.Add(time.Hour)
	t0 := time.Now()
	db, err := store.Open(ctx, path)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	tmpl, err := templates.Load("")
	if err != nil {
		log.Fatal(err)
	}
	d := desk.New(cfg, db, tmpl, desk.Options{Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	opened := time.Since(t0)
	wakes := 0
	for {
		wait, err := d.FireDue(ctx, 100)
		if err != nil {
			log.Fatal(err)
		}
		wakes++
		if wait > 0 {
			break
		}
	}
	total := time.Since(t0)
	var fired, timers int
	db.Read(ctx, func(t *store.Txn) error {
		timers, _ = t.CountTimers()
		return nil
	})
	db.Read(ctx, func(t *store.Txn) error {
		qs, _ := t.DueMail(now, 1_000_000)
		fired = len(qs)
		return nil
	})
	fmt.Printf("recovery: open %v, all overdue timers fired after %v (%d wakes, %d notices queued, %d timers stored)\n",
		opened.Round(time.Millisecond), total.Round(time.Millisecond), wakes, fired, timers)
	fmt.Printf("peak RSS of the recovering process: %s\n", peakRSS())
}

func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "unknown"
}
