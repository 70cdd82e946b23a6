package pytest

import (
	"strings"
	"testing"

	"github.com/siamese-pipeline/siamese/internal/testenv"
)

func TestMissing(t *testing.T) {
	if why := Missing(); why != "" {
		testenv.Missing(t, why)
	}
	if why := Missing("json"); why != "" {
		t.Errorf("json: %s", why)
	}
	if why := Missing("json", "no_such_module_here"); !strings.Contains(why, "cannot import no_such_module_here (apt-get install python3-no_such_module_here)") {
		t.Errorf("got %q", why)
	}
}
