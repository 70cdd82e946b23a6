package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockError says another run holds the artifacts root.
type LockError struct {
	Root string
	PID  int // 0 when the holder's pid could not be read
}

func (e *LockError) Error() string {
	holder := "another process"
	if e.PID > 0 {
		holder = "pid " + strconv.Itoa(e.PID)
	}
	return fmt.Sprintf("another run holds the lock on %s (%s); wait for it to finish", e.Root, holder)
}

// lock is an exclusive flock on root/.siamese/lock. The kernel releases it
// when the holder exits, however it exits, so a killed run never blocks
// the next one.
type lock struct{ f *os.File }

func acquireLock(root string) (*lock, error) {
	l, err := lockFile(filepath.Join(root, internalDir, "lock"))
	var lerr *LockError
	if errors.As(err, &lerr) {
		lerr.Root = root
	}
	return l, err
}

// LockFile takes an exclusive flock on the file name, as a run takes its
// root's, or returns a *LockError naming the holder's pid. release gives
// it back.
func LockFile(name string) (release func(), err error) {
	l, err := lockFile(name)
	if err != nil {
		return nil, err
	}
	return l.release, nil
}

func lockFile(name string) (*lock, error) {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			data, _ := os.ReadFile(name)
			pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
			return nil, &LockError{Root: name, PID: pid}
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &lock{f: f}, nil
}

func (l *lock) release() {
	_ = l.f.Truncate(0)
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	_ = l.f.Close()
}
