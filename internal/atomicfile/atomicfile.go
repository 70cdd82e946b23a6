// Package atomicfile writes files that appear whole or not at all: each is
// written under a temporary name beside its final path and renamed into
// place only when complete, so a crash or a kill never leaves half a file
// under the final name.
package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
)

// File is a file being written; Commit puts it in place, Abort drops it.
type File struct {
	*os.File
	path string
	done bool
}

// ErrNotRegular is returned for a path that holds a device, a pipe, a
// socket or a directory: renaming a file onto it would replace it (a
// /dev/null turned into a plain file), so it is never done.
var ErrNotRegular = errors.New("not a regular file")

// Create starts writing the file that Commit will put at path. The
// directory of path must exist, and path must not hold anything but a
// regular file or a symlink.
func Create(path string) (*File, error) {
	if info, err := os.Lstat(path); err == nil && !info.Mode().IsRegular() && info.Mode()&os.ModeSymlink == 0 {
		return nil, &os.PathError{Op: "atomicfile: replace", Path: path, Err: ErrNotRegular}
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &File{File: f, path: path}, nil
}

// Commit makes the file readable by all, closes it and renames it to its
// final path. The temporary file is removed if any step fails. It does not
// sync: call Sync first where the data must survive a power loss.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: " + f.path + " already committed or aborted")
	}
	f.done = true
	err := f.File.Chmod(0o644)
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.File.Name(), f.path)
	}
	if err != nil {
		os.Remove(f.File.Name())
		return err
	}
	notify(Event{Op: Rename, Path: f.path, From: f.File.Name()})
	return nil
}

// Sync fsyncs the file's contents.
func (f *File) Sync() error {
	if err := f.File.Sync(); err != nil {
		return err
	}
	notify(Event{Op: Synced, Path: f.File.Name()})
	return nil
}

// Abort closes and removes the temporary file. It does nothing after
// Commit, so it can be deferred.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.File.Name())
}

// Replace writes data to path atomically but not durably: nothing is
// synced, so after a power loss path may hold the old bytes, the new ones
// or a torn file. It is for what can be checked and redone (a cache, a
// list whose name is its hash), and creates path's directory if needed.
func Replace(path string, data []byte) error { return write(path, data, false) }

// WriteFile writes data to path atomically and durably (synced before
// the rename, and its directory after), creating path's directory if
// needed.
func WriteFile(path string, data []byte) error { return write(path, data, true) }

func write(path string, data []byte, durable bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if durable {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	if err := f.Commit(); err != nil || !durable {
		return err
	}
	return SyncPath(filepath.Dir(path))
}

// SyncPath fsyncs the file or directory at path: for a directory, the
// names in it (a rename into it is durable once it is synced).
func SyncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		notify(Event{Op: Synced, Path: path})
	}
	return err
}

// Event is an fsync or a rename into place that this package made.
type Event struct {
	Op   string // Synced or Rename
	Path string // the path synced, or the final path a file was renamed to
	From string // for a rename, the temporary file's path
}

// The kinds of Event.
const (
	Synced = "sync"
	Rename = "rename"
)

var observer struct {
	sync.Mutex
	fn func(Event)
}

// Observe has fn told of every fsync and every rename into place that
// this package makes, in the order they complete, until stop is called:
// the window through which tests see what reached the disk before what.
// fn is called with a lock held, one event at a time.
func Observe(fn func(Event)) (stop func()) {
	observer.Lock()
	observer.fn = fn
	observer.Unlock()
	return func() {
		observer.Lock()
		observer.fn = nil
		observer.Unlock()
	}
}

func notify(e Event) {
	observer.Lock()
	defer observer.Unlock()
	if observer.fn != nil {
		observer.fn(e)
	}
}
