package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/siamese-pipeline/siamese/internal/atomicfile"
)

// httpClient downloads; tests may replace it.
var httpClient = http.DefaultClient

// progressOut is where the progress bar goes; it is shown only when it is
// a terminal.
var progressOut = os.Stderr

// download fetches url into dest through a temporary file beside it,
// renamed into place only once its SHA-256 is want (when want is known).
func download(ctx context.Context, url, dest, want string, log *slog.Logger) (err error) {
	start := time.Now()
	log.Info("downloading", "url", url, "to", dest)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	resp, err := httpClient.Do(req)
	if err != nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: %s", url, resp.Status)
	}
	tmp, err := atomicfile.Create(dest)
	if err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	defer tmp.Abort()
	h := sha256.New()
	w := io.MultiWriter(tmp, h)
	if isTerminal(progressOut) {
		bar := progressbar.DefaultBytes(resp.ContentLength, filepath.Base(dest))
		defer bar.Close()
		w = io.MultiWriter(w, bar)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("download %s: after %d bytes: %w", url, n, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); want != "" && got != want {
		return fmt.Errorf("download %s: SHA-256 %s, want %s: download discarded", url, got, want)
	} else if want == "" {
		log.Warn("no known SHA-256 to verify the download against", "url", url, "sha256", got)
	}
	if err = tmp.Commit(); err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	log.Info("downloaded", "file", dest, "bytes", n, "seconds", time.Since(start).Seconds())
	return nil
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
