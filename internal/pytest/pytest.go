// Package pytest lets tests run Debian's Python, which has numpy and
// scikit-learn from apt-get, to compare our results with theirs.
package pytest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/internal/testenv"
)

// Python is Debian's interpreter. The python3 first on PATH may be
// another one, without numpy.
const Python = "/usr/bin/python3"

// Missing says why Python cannot import every one of modules, or returns
// "" when it can.
func Missing(modules ...string) string {
	if _, err := os.Stat(Python); err != nil {
		return fmt.Sprintf("%s not found (apt-get install python3)", Python)
	}
	for _, m := range modules {
		if err := exec.Command(Python, "-c", "import "+m).Run(); err != nil {
			return fmt.Sprintf("%s cannot import %s (apt-get install python3-%s)", Python, m, m)
		}
	}
	return ""
}

// Need returns Python, or skips t, saying why, when it lacks a module.
func Need(t testing.TB, modules ...string) string {
	t.Helper()
	if why := Missing(modules...); why != "" {
		testenv.Missing(t, why+": "+strings.Join(modules, ", ")+" needed")
	}
	return Python
}
