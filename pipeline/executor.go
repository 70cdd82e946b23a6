package pipeline

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Executors are the ways a pipeline's stages can be run.
var Executors = []string{"local", "slurm"}

// Resources is what one run of a stage needs: the Slurm executor asks
// for it (sbatch --cpus-per-task, --mem, --time, --gres); the local
// executor uses CPUs alone, as the stage's thread count. Zero values are
// unset.
type Resources struct {
	CPUs  int
	MemMB int64 // megabytes
	Time  time.Duration
	GPUs  int
}

// Slurm is the pipeline file's slurm block: where the Slurm executor
// submits its jobs.
type Slurm struct {
	Partition string
	Account   string
	QOS       string
	// Args are more sbatch arguments, passed as they are.
	Args []string
}

func parseExecutor(n *yaml.Node, fail failFunc) (string, error) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		for _, e := range Executors {
			if n.Value == e {
				return e, nil
			}
		}
	}
	return "", fail(n, "executor: want %s, got %s", strings.Join(Executors, " or "), describe(n))
}

func parseSlurm(n *yaml.Node, fail failFunc) (Slurm, error) {
	var s Slurm
	if n.Kind != yaml.MappingNode {
		return s, fail(n, "slurm: want a mapping like {partition: gpu, account: ml}, got %s", describe(n))
	}
	err := eachKey(n, fail, func(k, v *yaml.Node) error {
		switch k.Value {
		case "partition", "account", "qos":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" || v.Value == "" || strings.ContainsAny(v.Value, " \t\n") {
				return fail(v, "slurm: %s: want a name, got %s", k.Value, describe(v))
			}
			switch k.Value {
			case "partition":
				s.Partition = v.Value
			case "account":
				s.Account = v.Value
			default:
				s.QOS = v.Value
			}
		case "args":
			if v.Kind != yaml.SequenceNode {
				return fail(v, "slurm: args: want a list of sbatch arguments like [--constraint=avx2], got %s", describe(v))
			}
			for _, a := range v.Content {
				if a.Kind != yaml.ScalarNode || a.ShortTag() != "!!str" || !strings.HasPrefix(a.Value, "-") || strings.ContainsRune(a.Value, '\n') {
					return fail(a, "slurm: args: want an sbatch option starting with '-', got %s", describe(a))
				}
				s.Args = append(s.Args, a.Value)
			}
		default:
			return fail(k, "slurm: unknown key %q (want partition, account, qos or args)", k.Value)
		}
		return nil
	})
	return s, err
}

var (
	memRE = regexp.MustCompile(`^([0-9]+)([KMGT]?)$`)
	minRE = regexp.MustCompile(`^[0-9]+$`)
)

func parseResources(stage string, n *yaml.Node, fail failFunc) (Resources, error) {
	var r Resources
	if n.Kind != yaml.MappingNode {
		return r, fail(n, "stage %s: resources: want a mapping like {cpus: 2, mem: 4G, time: 30m, gpus: 0}, got %s", stage, describe(n))
	}
	count := func(v *yaml.Node, key string, min int) (int, error) {
		x, err := decodeParam(v, 0)
		if err != nil {
			return 0, fail(v, "stage %s: resources: %s: %v", stage, key, err)
		}
		i := x.(int)
		if i < min || i > 4096 {
			return 0, fail(v, "stage %s: resources: %s: %d is out of range [%d, 4096]", stage, key, i, min)
		}
		return i, nil
	}
	err := eachKey(n, fail, func(k, v *yaml.Node) error {
		var err error
		switch k.Value {
		case "cpus":
			r.CPUs, err = count(v, "cpus", 1)
		case "gpus":
			r.GPUs, err = count(v, "gpus", 0)
		case "mem":
			m := memRE.FindStringSubmatch(strings.ToUpper(v.Value))
			if v.Kind != yaml.ScalarNode || m == nil {
				return fail(v, "stage %s: resources: mem: want a size like 4G or 500M, got %s", stage, describe(v))
			}
			x, perr := strconv.ParseInt(m[1], 10, 64)
			shift := map[string]int{"K": -10, "": 0, "M": 0, "G": 10, "T": 20}[m[2]]
			if perr != nil || x <= 0 || x > 1<<40>>max(shift, 0) {
				return fail(v, "stage %s: resources: mem: %s is out of range", stage, v.Value)
			}
			if shift < 0 {
				r.MemMB = (x + 1023) >> 10
			} else {
				r.MemMB = x << shift
			}
		case "time":
			d, ok := parseTime(v.Value)
			if v.Kind != yaml.ScalarNode || !ok {
				return fail(v, "stage %s: resources: time: want a duration like 30m or 2h (or minutes), got %s", stage, describe(v))
			}
			r.Time = d
		default:
			return fail(k, "stage %s: resources: unknown key %q (want cpus, mem, time or gpus)", stage, k.Value)
		}
		return err
	})
	return r, err
}

// parseTime reads a time limit: a Go duration of at least a second and
// at most a year, or a whole number of minutes.
func parseTime(s string) (time.Duration, bool) {
	if minRE.MatchString(s) {
		m, err := strconv.Atoi(s)
		return time.Duration(m) * time.Minute, err == nil && m > 0 && m <= 366*24*60
	}
	d, err := time.ParseDuration(s)
	return d, err == nil && d >= time.Second && d <= 366*24*time.Hour
}

// Minutes is the time limit in whole minutes, rounded up, as sbatch
// --time takes it; 0 when unset.
func (r Resources) Minutes() int { return int(math.Ceil(r.Time.Minutes())) }

func (r Resources) String() string {
	var parts []string
	if r.CPUs > 0 {
		parts = append(parts, fmt.Sprintf("cpus %d", r.CPUs))
	}
	if r.MemMB > 0 {
		parts = append(parts, fmt.Sprintf("mem %dM", r.MemMB))
	}
	if r.Time > 0 {
		parts = append(parts, "time "+r.Time.String())
	}
	if r.GPUs > 0 {
		parts = append(parts, fmt.Sprintf("gpus %d", r.GPUs))
	}
	return strings.Join(parts, ", ")
}
