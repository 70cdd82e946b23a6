package slurm

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A job's program runs with as many Go threads as the job has CPUs: the
// CPUs it asked for, else those of its node, else one.
func TestScriptSetsGOMAXPROCS(t *testing.T) {
	tests := []struct {
		env  []string
		want string
	}{
		{[]string{"SLURM_CPUS_PER_TASK=3", "SLURM_CPUS_ON_NODE=8"}, "3"},
		{[]string{"SLURM_CPUS_ON_NODE=8"}, "8"},
		{nil, "1"},
	}
	for _, tt := range tests {
		cmd := exec.Command("sh", "-c", script([]string{"sh", "-c", "echo $GOMAXPROCS"}))
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, tt.env...)
		out, err := cmd.Output()
		if err != nil || strings.TrimSpace(string(out)) != tt.want {
			t.Errorf("%v: GOMAXPROCS=%q (%v), want %s", tt.env, out, err, tt.want)
		}
	}
}
