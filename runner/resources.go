package runner

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/siamese-pipeline/siamese/pipeline"
)

// ResourceError says a run was refused before anything ran because its
// outputs would not fit on the artifacts filesystem, or a stage would
// need more memory than the machine has.
type ResourceError struct {
	Stage string
	What  string // "disk" or "memory"
	Need  int64  // bytes
	Free  int64  // bytes
	Where string // the filesystem's directory, or where the memory figure comes from
	// Notebook names the stages of this run that write the notebook's
	// arrays, which the switch leaves out.
	Notebook []string
}

func (e *ResourceError) Error() string {
	if e.What == "disk" {
		hint := ""
		if len(e.Notebook) > 0 {
			hint = fmt.Sprintf(" (stage %s writes the notebook's arrays, copies of the images that nothing in the pipeline reads: "+
				"notebook_arrays: false in the pipeline file, or siamese run --notebook-arrays=false, leaves them out)", strings.Join(e.Notebook, ", "))
		}
		return fmt.Sprintf("not enough disk: with stage %s the outputs of this run need %s more under %s, where %s are free; nothing ran%s",
			e.Stage, FormatBytes(e.Need), e.Where, FormatBytes(e.Free), hint)
	}
	return fmt.Sprintf("not enough memory: stage %s needs about %s, and %s are available (%s); nothing ran",
		e.Stage, FormatBytes(e.Need), FormatBytes(e.Free), e.Where)
}

// FormatBytes writes a byte count as "4.7 TB", "830.2 MB".
func FormatBytes(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB", "EB"}
	f, u := float64(n), 0
	for f >= 1000 && u < len(units)-1 {
		f /= 1000
		u++
	}
	if u == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", f, units[u])
}

// Where the runner learns what is free; tests replace them.
var (
	freeDisk   = statfsFree
	freeMemory = availableMemory
)

// checkResources estimates, stage by stage in plan order, what the stages
// that are to run will write and how much memory each will take, from
// their params and their inputs' sizes (on disk, or as estimated for the
// outputs of stages that run before them), and refuses the run if the
// outputs would not fit on the artifacts filesystem or, where the stages
// run on this machine (localMemory), a stage would not fit in its memory.
// Stages whose Spec has no Resources count as needing nothing.
func (r *Runner) checkResources(decisions []decision, localMemory bool) error {
	known := map[string]int64{} // out path → bytes, estimated
	var growth, overlap int64   // net new bytes; the most any one stage holds twice
	disk, diskErr := int64(-1), error(nil)
	mem, memWhere, memErr := int64(-1), "", error(nil)
	var notebook []string
	for _, d := range decisions {
		if d.run && d.stage.Spec.NotebookArrays {
			notebook = append(notebook, d.stage.Name)
		}
	}
	for _, d := range decisions {
		s := d.stage
		if !d.run || s.Spec.Resources == nil {
			continue
		}
		in := pipeline.Sizes{}
		for name, ref := range s.Inputs {
			if n, ok := known[ref.Out.Path]; ok {
				in[name] = n
			} else if n, ok := sizeOnDisk(filepath.Join(r.Root(), filepath.FromSlash(ref.Out.Path))); ok {
				in[name] = n
			}
		}
		need := s.Spec.Resources(s.Params, in)
		var newBytes, oldBytes int64
		for _, o := range s.Outs {
			n, ok := need.Outputs[o.Name()]
			if !ok {
				continue
			}
			known[o.Path] = n
			newBytes = pipeline.AddSize(newBytes, n)
			if old, ok := sizeOnDisk(filepath.Join(r.Root(), filepath.FromSlash(o.Path))); ok {
				oldBytes = pipeline.AddSize(oldBytes, old)
			}
		}
		// A stage's new outputs stand beside its old ones until it commits.
		growth = pipeline.AddSize(growth, newBytes) - oldBytes
		overlap = max(overlap, min(oldBytes, newBytes))
		if total := growth + overlap; total > 0 {
			if disk < 0 && diskErr == nil {
				disk, diskErr = freeDisk(r.Root())
			}
			if diskErr == nil && total > disk {
				return &ResourceError{Stage: s.Name, What: "disk", Need: total, Free: disk, Where: r.Root(), Notebook: notebook}
			}
		}
		if need.Memory > 0 && localMemory {
			if mem < 0 && memErr == nil {
				mem, memWhere, memErr = freeMemory()
			}
			if memErr == nil && need.Memory > mem {
				return &ResourceError{Stage: s.Name, What: "memory", Need: need.Memory, Free: mem, Where: memWhere}
			}
		}
	}
	if diskErr != nil {
		r.log().Warn("free disk space unknown; not checked", "err", diskErr)
	}
	if memErr != nil {
		r.log().Warn("available memory unknown; not checked", "err", memErr)
	}
	return nil
}

// sizeOnDisk is the size of a file, or of everything under a directory.
func sizeOnDisk(path string) (int64, bool) {
	info, err := os.Stat(path)
	if err != nil {
		return 0, false
	}
	if !info.IsDir() {
		return info.Size(), true
	}
	var total int64
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if i, err := d.Info(); err == nil {
				total += i.Size()
			}
		}
		return err
	})
	return total, err == nil
}

// statfsFree is the space an unprivileged process may still write on the
// filesystem that holds dir (or its nearest existing parent).
func statfsFree(dir string) (int64, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return 0, err
	}
	for {
		var st syscall.Statfs_t
		err := syscall.Statfs(dir, &st)
		if err == nil {
			return pipeline.MulSize(int64(st.Bavail), int64(st.Bsize)), nil
		}
		parent := filepath.Dir(dir)
		if !errors.Is(err, syscall.ENOENT) || parent == dir {
			return 0, fmt.Errorf("statfs %s: %w", dir, err)
		}
		dir = parent
	}
}

// availableMemory is what a process may still allocate: the kernel's
// MemAvailable, or less where a cgroup (v2) limits this process.
func availableMemory() (int64, string, error) {
	avail, err := memAvailable("/proc/meminfo")
	if err != nil {
		return 0, "", err
	}
	where := "MemAvailable in /proc/meminfo"
	if limit, used, ok := cgroupMemory(); ok && limit-used < avail {
		avail, where = max(limit-used, 0), "the cgroup's memory.max less memory.current"
	}
	return avail, where, nil
}

func memAvailable(meminfo string) (int64, error) {
	data, err := os.ReadFile(meminfo)
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemAvailable:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: MemAvailable %q: %w", meminfo, f[1], err)
			}
			return pipeline.MulSize(kb, 1024), nil
		}
	}
	return 0, fmt.Errorf("%s has no MemAvailable line", meminfo)
}

// cgroupMemory reads the memory limit and use of this process's cgroup
// (v2); ok is false where there is none or no limit.
func cgroupMemory() (limit, used int64, ok bool) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, 0, false
	}
	path := ""
	for _, line := range strings.Split(string(data), "\n") {
		if p, found := strings.CutPrefix(line, "0::"); found {
			path = p
		}
	}
	if path == "" {
		return 0, 0, false
	}
	dir := filepath.Join("/sys/fs/cgroup", path)
	read := func(name string) (int64, bool) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return 0, false
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return math.MaxInt64, true
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	limit, ok1 := read("memory.max")
	used, ok2 := read("memory.current")
	if !ok1 || !ok2 || limit == math.MaxInt64 {
		return 0, 0, false
	}
	return limit, used, true
}
