package slurm

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/siamese-pipeline/siamese/pipeline"
)

// The batch script runs its command with every argument as it was, which
// sh shows by printing them back.
func TestScriptQuotes(t *testing.T) {
	args := []string{"a b", "it's", "$HOME", "`id`", "", "--set=x.y=[1,2]", "tab\there", "new\nline"}
	out, err := exec.Command("sh", "-c", script(append([]string{"printf", "<%s>"}, args...))).Output()
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, a := range args {
		want.WriteString("<" + a + ">")
	}
	if string(out) != want.String() {
		t.Errorf("got %q, want %q", out, want.String())
	}
}

func TestSbatchArgs(t *testing.T) {
	e := New(Config{Root: "/shared/out", Slurm: pipeline.Slurm{Partition: "gpu", Account: "ml", QOS: "night", Args: []string{"--constraint=avx2"}}})
	tests := []struct {
		r    pipeline.Resources
		want []string
		not  []string
	}{
		{pipeline.Resources{}, []string{"--mem=2048M", "--partition=gpu", "--account=ml", "--qos=night", "--constraint=avx2", "--chdir=/shared/out"},
			[]string{"--cpus-per-task", "--time", "--gres"}},
		{pipeline.Resources{CPUs: 4, MemMB: 8192, Time: 90*time.Minute + time.Second, GPUs: 1},
			[]string{"--cpus-per-task=4", "--mem=8192M", "--time=91", "--gres=gpu:1"}, nil},
	}
	for _, tt := range tests {
		args := e.sbatchArgs("siamese-train", "/shared/out/.siamese/slurm/train-%j.out", tt.r)
		checkArgs(t, fmt.Sprintf("%+v", tt.r), args, tt.want, tt.not)
	}
}

func TestJobStates(t *testing.T) {
	tests := []struct {
		job           Job
		ended, failed bool
	}{
		{Job{State: "PENDING", Reason: "Dependency"}, false, false},
		{Job{State: "PENDING", Reason: "DependencyNeverSatisfied"}, false, true},
		{Job{State: "RUNNING"}, false, false},
		{Job{State: "COMPLETED"}, true, false},
		{Job{State: "CANCELLED", Reason: "DependencyNeverSatisfied"}, true, true},
		{Job{State: "OUT_OF_MEMORY"}, true, true},
		{Job{State: "TIMEOUT"}, true, true},
		{Job{State: "NODE_FAIL"}, true, true},
	}
	for _, tt := range tests {
		if tt.job.Ended() != tt.ended || tt.job.Failed() != tt.failed {
			t.Errorf("%+v: ended %v failed %v", tt.job, tt.job.Ended(), tt.job.Failed())
		}
	}
}
