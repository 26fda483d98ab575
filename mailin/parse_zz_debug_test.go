package mailin

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestZZDump(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.eml")
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		m, err := Parse(bytes.NewReader(raw), ParseOptions{})
		if err != nil {
			fmt.Println(f, err)
			continue
		}
		fmt.Printf("== %s\n  subj=%q from=%+v auto=%q\n  text=%.80q\n  html=%.60q\n  att=%v\n  probs=%q\n", filepath.Base(f), m.Subject, m.From, m.Auto, m.Text, m.HTML, attachmentNames(m), m.Problems)
	}
}
