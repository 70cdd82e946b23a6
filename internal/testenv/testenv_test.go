package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Missing skips without the variable and fails with it: the test runs
// itself in a subprocess both ways.
func TestMissing(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") == "1" {
		Missing(t, "frobnicator not installed")
		return
	}
	for _, tt := range []struct {
		require string
		fails   bool
		want    string
	}{
		{"", false, "frobnicator not installed"},
		{"1", true, "SIAMESE_REQUIRE_TOOLS=1"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissing$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", RequireVar+"="+tt.require)
		out, err := cmd.CombinedOutput()
		if (err != nil) != tt.fails || !strings.Contains(string(out), tt.want) {
			t.Errorf("%s=%q: err %v, output:\n%s", RequireVar, tt.require, err, out)
		}
		if !tt.fails && !strings.Contains(string(out), "SKIP") {
			t.Errorf("%s unset: the test did not skip:\n%s", RequireVar, out)
		}
	}
}
