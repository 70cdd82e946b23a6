package runner

import (
	"testing"
	"time"
)

func TestZZDescribe(t *testing.T) {
	for range 5 {
		t0 := time.Now()
		found, _ := listFiles("/tmp/fb/folder", true)
		t.Log("listFiles", time.Since(t0), len(found))
	}
}
