package main

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"helpdeskd/mailin"
)

// parseAlone is how long parsing the mails takes on every core, in
// process (mailin.ParseMeta, as the desk's intake parses): a part of the
// import's work that does not depend on the database, to set against the
// bare FETCH.
func parseAlone(raws [][]byte) (time.Duration, error) {
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(raws); i = int(next.Add(1) - 1) {
				if _, err := mailin.ParseMeta(raws[i], mailin.ParseOptions{MaxAttachment: 25 << 20}); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start), firstErr
}
