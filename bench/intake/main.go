// Command intake measures helpdeskd's intake on the real mail stack of the
// end-to-end suite (Dovecot and Postfix from e2e/mailstack.sh, on the
// E2E_*_PORT ports), each figure against a baseline measured in the same
// run (issue 10):
//
//   - import: N generated mails APPENDed to support@'s INBOX, turned into
//     cases by `helpdeskd serve`, against a bare go-imap FETCH of the same
//     mails; the rate over the first and the last thousand; the database
//     size against the raw mail; serve's peak RSS;
//   - big: one mail with a 50 MiB (and a 200 MiB) attachment: serve's peak
//     RSS against the attachment's size;
//   - flat: the median intake of a new mail with 100,000 cases stored
//     against the same with an empty database (in process);
//   - idle: serve's idle RSS with those 100,000 cases against an empty
//     database;
//   - live: mail delivered to support@ at 20 a second for a minute, from
//     delivery to the acknowledgement in the customer's mailbox, against
//     the stack's own delivery of a plain mail to the same mailbox.
//
// Run it from the repository root, as root (the stack's servers drop
// privileges):
//
//	go run ./bench/intake                        # everything, 10,000 mails
//	go run ./bench/intake -n 1000 -cases 10000 -live 10s -big 20
//	go run ./bench/intake -only import,flat
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

var (
	nMails       = flag.Int("n", 10_000, "mails in the import")
	importRuns   = flag.Int("runs", 3, "times the import runs, each on the same mailbox (the lines show the median run)")
	nCases       = flag.Int("cases", 100_000, "cases stored for the flat-cost and idle figures")
	bigMiB       = flag.String("big", "50,200", "attachment sizes in MiB for the memory figure (\"\" = skip)")
	liveFor      = flag.Duration("live", time.Minute, "how long mail is delivered in the live figure")
	liveRate     = flag.Int("rate", 20, "mails per second in the live figure")
	only         = flag.String("only", "import,big,flat,idle,live,backlog", "figures to measure")
	dirFlag      = flag.String("dir", "", "working directory (default $E2E_DIR or a temp dir)")
	seed         = flag.Uint64("seed", 1, "generator seed")
	cpuProfile   = flag.String("cpuprofile", "", "write a CPU profile of the flat figure's intakes (into both databases, in turn) to this file")
	serveProfile = flag.String("serveprofile", "", "write a CPU profile of each serve started into this directory (serve -cpuprofile), and run it with -debug")
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	dir := *dirFlag
	if dir == "" {
		dir = os.Getenv("E2E_DIR")
	}
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "helpdeskd-bench-"); err != nil {
			log.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	want := strings.Split(*only, ",")
	b := &bench{dir: dir}
	var err error
	if b.bin, err = build(dir); err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if slices.Contains(want, "prepare") {
		// Leave the stack running with the mails in support@'s INBOX, for
		// profiling serve by hand; `e2e/mailstack.sh stop DIR/stack` ends it.
		if b.stack, err = startStack(filepath.Join(dir, "stack")); err != nil {
			log.Fatal(err)
		}
		if _, _, err := b.appendGenerated(); err != nil {
			log.Fatal(err)
		}
		cfg, err := b.writeConfig("import", support, "127.0.0.1:1", filepath.Join(dir, "import.db"), 25)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("config:", cfg)
		return
	}
	if slices.Contains(want, "import") || slices.Contains(want, "big") || slices.Contains(want, "live") || slices.Contains(want, "idle") || slices.Contains(want, "backlog") {
		if b.stack, err = startStack(filepath.Join(dir, "stack")); err != nil {
			log.Fatal(err)
		}
		defer b.stack.stop()
		if b.sink, err = startSink(); err != nil {
			log.Fatal(err)
		}
	}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"import", b.importFigures}, {"big", b.bigFigures}, {"flat", b.flatFigures}, {"idle", b.idleFigures}, {"live", b.liveFigures},
		{"backlog", b.backlogFigures},
	}
	for _, st := range steps {
		if !slices.Contains(want, st.name) {
			continue
		}
		if err := st.fn(ctx); err != nil {
			if b.stack != nil {
				b.stack.stop()
			}
			log.Fatalf("%s: %v", st.name, err)
		}
	}
}

type bench struct {
	dir   string
	bin   string
	stack *stack
	sink  *sinkServer
}

func build(dir string) (string, error) {
	bin := filepath.Join(dir, "helpdeskd")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/helpdeskd")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return bin, cmd.Run()
}

// figure prints one line: what, the value, the baseline, their ratio and
// the target.
func figure(name string, value, baseline float64, unit, detail, target string) {
	ratio := value / baseline
	fmt.Printf("%-28s %10.3f %-6s baseline %10.3f %-6s ratio %7.2f  target %-10s %s\n", name, value, unit, baseline, unit, ratio, target, detail)
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

const cfgText = `
[mailbox]
address = %q
tls = "none"
username = %q
password = %q
processed_folder = "Processed"
poll_interval = "30s"
max_attachment_mb = %d

[smtp]
address = %q
tls = "none"
from = "Support <support@example.test>"

[database]
path = %q

[http]
listen = ""

[plans.5x8]
calendar = "always"

[policy]
auto_reply_limit = 1000000

[[staff]]
name = "Wang Wei"
email = "eng1@example.test"
roles = ["engineer"]
regions = ["north"]

[[staff]]
name = "Li Na"
email = "desk@example.test"
roles = ["specialist"]

[[staff]]
name = "Zhao Min"
email = "csm@example.test"
roles = ["customer_service_manager"]

[[customers]]
company = "ACME"
domains = ["acme.test"]
plan = "5x8"
region = "north"

[[customers]]
company = "Globex"
domains = ["globex.test"]
plan = "5x8"
region = "north"
`

// writeConfig writes a config for serve and returns its path.
func (b *bench) writeConfig(name, user, smtpAddr, db string, maxAttMB int) (string, error) {
	imapAddr, pw := "127.0.0.1:1", "x"
	if b.stack != nil {
		imapAddr, pw = b.stack.imap, b.stack.password
	}
	path := filepath.Join(b.dir, name+".toml")
	return path, os.WriteFile(path, fmt.Appendf(nil, cfgText, imapAddr, user, pw, maxAttMB, smtpAddr, db), 0o600)
}
