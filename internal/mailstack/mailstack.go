// Package mailstack starts and stops the end-to-end suite's Dovecot and
// Postfix (e2e/mailstack.sh) for the programs under bench/. They run from
// the repository root.
package mailstack

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Start runs `e2e/mailstack.sh start dir`, its output going to stderr, and
// returns the variables the script wrote to dir/env (E2E_IMAP, E2E_SMTP,
// E2E_PASSWORD, ...), without "export " and quotes.
func Start(dir string) (map[string]string, error) {
	cmd := exec.Command("bash", "e2e/mailstack.sh", "start", dir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("start mail stack (run from the repository root): %w", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "env"))
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok {
			continue
		}
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		}
		env[k] = strings.Trim(v, "'")
	}
	return env, nil
}

// Stop runs `e2e/mailstack.sh stop dir`, its output going to out.
func Stop(dir string, out io.Writer) error {
	cmd := exec.Command("bash", "e2e/mailstack.sh", "stop", dir)
	cmd.Stdout, cmd.Stderr = out, out
	return cmd.Run()
}
