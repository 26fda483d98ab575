package main

import (
	"context"
	"fmt"
	"io"

	"helpdeskd/store"
)

func cmdBackup(args []string, stdout io.Writer) error {
	fs, cfgPath := newFlags("backup")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("backup: want exactly one FILE to write the copy to")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	ctx := context.Background()
	db, err := store.OpenExisting(ctx, cfg.Database.Path)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup of %s written to %s\n", cfg.Database.Path, pos[0])
	return nil
}

func cmdVersion(args []string, stdout io.Writer) error {
	fs, _ := newFlags("version")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, versionLine())
	return nil
}
