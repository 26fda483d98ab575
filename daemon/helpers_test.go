package daemon

import (
	"encoding/base64"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func mustGBK(t *testing.T, s string) string {
	out, err := simplifiedchinese.GBK.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
