package runner

import (
	"os"
	"path/filepath"
	"testing"
)

// memAvailable reads MemAvailable, not the line before it, from a
// recorded /proc/meminfo.
func TestMemAvailable(t *testing.T) {
	const meminfo = "MemTotal:        8039772 kB\nMemFree:          512000 kB\nMemAvailable:    4020000 kB\nBuffers:          100000 kB\n"
	tests := []struct {
		text string
		want int64
		ok   bool
	}{
		{meminfo, 4020000 * 1024, true},
		{"MemTotal:        8039772 kB\n", 0, false},
		{"MemAvailable:    lots kB\n", 0, false},
	}
	for _, tt := range tests {
		name := filepath.Join(t.TempDir(), "meminfo")
		if err := os.WriteFile(name, []byte(tt.text), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := memAvailable(name)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("%q: %d, %v; want %d (ok %v)", tt.text, got, err, tt.want, tt.ok)
		}
	}
}
