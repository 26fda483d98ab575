package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strings"
	"time"

	"helpdeskd/config"
	"helpdeskd/daemon"
	"helpdeskd/mailin"
	"helpdeskd/mailout"
	"helpdeskd/templates"
)

func cmdCheck(args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("check")
	offline := fs.Bool("offline", false, "Skip the IMAP and SMTP logins; check the file and the templates only.")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	var ps config.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			fmt.Fprintln(stdout, p.Error())
		}
		return fmt.Errorf("%d problem(s) in %s", len(ps), *cfgPath)
	}
	if err != nil {
		return err
	}
	for _, w := range cfg.Warnings() { // they do not fail the check
		fmt.Fprintln(stdout, w.Error())
	}
	if _, err := templates.Load(cfg.Templates.Dir); err != nil {
		for _, l := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stdout, "%s:%d: templates.dir: %s\n", *cfgPath, cfg.Line("templates.dir"), l)
		}
		return fmt.Errorf("templates of %s are broken", *cfgPath)
	}
	if !*offline {
		var ps config.Problems
		if errors.As(cfg.CheckSecrets(), &ps) {
			for _, p := range ps {
				fmt.Fprintln(stdout, p.Error())
			}
			return fmt.Errorf("%d problem(s) in %s", len(ps), *cfgPath)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var online []config.Problem
		if err := daemon.NewFetcher(cfg, nil).Check(); err != nil {
			online = append(online, imapProblem(cfg, err))
		}
		if err := checkSMTP(ctx, cfg); err != nil {
			online = append(online, smtpProblem(cfg, err))
		}
		// Each problem is printed once, here; the exit line only counts.
		for _, p := range online {
			fmt.Fprintln(stdout, p.Error())
		}
		if len(online) > 0 {
			return fmt.Errorf("%d server problem(s) with %s", len(online), *cfgPath)
		}
	}
	fmt.Fprintf(stdout, "%s: ok\n", *cfgPath)
	return nil
}

func checkSMTP(ctx context.Context, cfg *config.Config) error {
	srv, err := mailout.ParseServer(cfg.SMTP.Address, string(cfg.SMTP.TLS), cfg.SMTP.Username, cfg.SMTP.Password, cfg.SMTP.HELO, cfg.SMTP.InsecureSkipVerify)
	if err != nil {
		return err
	}
	c, err := mailout.NewClient(srv)
	if err != nil {
		return err
	}
	if err := c.DialWithContext(ctx); err != nil {
		return err
	}
	return c.Close()
}

// problemAt is a problem at the line of key (or of its table when the
// key is not in the file, e.g. a default).
func problemAt(cfg *config.Config, key, msg string) config.Problem {
	line := cfg.Line(key)
	if line == 0 {
		table, _, _ := strings.Cut(key, ".")
		line = cfg.Line(table)
	}
	return config.Problem{File: cfg.Path, Line: line, Key: key, Msg: msg}
}

// passwordKey is the key the password of a table came from.
func passwordKey(cfg *config.Config, table string) string {
	for _, k := range []string{"password_env", "password_file", "password"} {
		if cfg.Line(table+"."+k) > 0 {
			return table + "." + k
		}
	}
	return table + ".password"
}

// tlsProblem reports whether err is a TLS handshake or certificate error.
func tlsProblem(err error) bool {
	var rh tls.RecordHeaderError
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	var hn x509.HostnameError
	var ve *tls.CertificateVerificationError
	return errors.As(err, &rh) || errors.As(err, &ua) || errors.As(err, &ci) || errors.As(err, &hn) || errors.As(err, &ve)
}

// imapProblem names the setting an IMAP check failure points at, with a
// hint what to look at.
func imapProblem(cfg *config.Config, err error) config.Problem {
	stage := mailin.StageConnect
	var se *mailin.SessionError
	if errors.As(err, &se) {
		stage = se.Stage
	}
	m := cfg.Mailbox
	switch {
	case stage == mailin.StageLogin:
		return problemAt(cfg, passwordKey(cfg, "mailbox"), fmt.Sprintf("IMAP login refused: %v (check mailbox.username %q and its password)", err, m.Username))
	case stage == mailin.StageSelect:
		return problemAt(cfg, "mailbox.folder", fmt.Sprintf("IMAP folder cannot be opened: %v (does the folder exist for %s?)", err, m.Username))
	case tlsProblem(err):
		return problemAt(cfg, "mailbox.tls", fmt.Sprintf("IMAP TLS failed: %v (tls = %q; port 993 is implicit TLS, 143 is starttls)", err, m.TLS))
	}
	return problemAt(cfg, "mailbox.address", fmt.Sprintf("IMAP server unreachable: %v (is the server running, and %s the right host and port?)", err, m.Address))
}

// smtpProblem is imapProblem for the SMTP check.
func smtpProblem(cfg *config.Config, err error) config.Problem {
	s := cfg.SMTP
	var tp *textproto.Error
	switch {
	case errors.As(err, &tp) && tp.Code >= 530 && tp.Code < 540:
		return problemAt(cfg, passwordKey(cfg, "smtp"), fmt.Sprintf("SMTP login refused: %v (check smtp.username %q and its password)", err, s.Username))
	case tlsProblem(err):
		return problemAt(cfg, "smtp.tls", fmt.Sprintf("SMTP TLS failed: %v (tls = %q; port 465 is implicit TLS, 587 is starttls)", err, s.TLS))
	}
	return problemAt(cfg, "smtp.address", fmt.Sprintf("SMTP server unreachable or refused: %v (is the server running, and %s the right host and port?)", err, s.Address))
}
