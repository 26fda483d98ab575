package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"helpdeskd/daemon"
)

func cmdServe(args []string, stderr io.Writer) error {
	fs, cfgPath := newFlags("serve")
	debug := fs.Bool("debug", false, "Log at debug level.")
	cpuProfile := fs.String("cpuprofile", "", "Write a CPU profile (go tool pprof) to `FILE` until the daemon stops.")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if err := reportSecrets(cfg); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		// A second signal exits at once.
		<-ctx.Done()
		stop()
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
		<-c
		log.Warn("second signal, exiting now")
		os.Exit(1)
	}()
	// SIGHUP reloads the configuration instead of ending the daemon.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				select {
				case reload <- struct{}{}:
				default: // a reload is pending already
				}
			}
		}
	}()
	return daemon.Run(ctx, cfg, daemon.Options{Logger: log, Reload: reload})
}
