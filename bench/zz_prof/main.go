package main

import (
	"context"
	"flag"
	"log"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"helpdeskd/config"
	"helpdeskd/daemon"
)

func main() {
	cfgPath := flag.String("config", "", "")
	out := flag.String("cpu", "/tmp/serve.prof", "")
	flag.Parse()
	data, _ := os.ReadFile(*cfgPath)
	cfg, err := config.Parse(*cfgPath, data)
	if err != nil {
		log.Fatal(err)
	}
	f, _ := os.Create(*out)
	pprof.StartCPUProfile(f)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw, _ := os.Pipe()
	lg := slog.New(slog.NewTextHandler(pw, nil))
	go func() {
		buf := make([]byte, 1<<16)
		for {
			n, err := pr.Read(buf)
			if err != nil {
				return
			}
			os.Stderr.Write(buf[:n])
			if strings.Contains(string(buf[:n]), "first sync done") {
				cancel()
			}
		}
	}()
	t0 := time.Now()
	daemon.Run(ctx, cfg, daemon.Options{Logger: lg, Drain: time.Millisecond})
	pprof.StopCPUProfile()
	log.Println("took", time.Since(t0))
	hf, _ := os.Create(*out + ".heap")
	pprof.Lookup("allocs").WriteTo(hf, 0)
}
