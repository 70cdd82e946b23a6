package pipeline

import (
	"errors"
	"strings"
	"testing"
)

func TestModelsAndMonitoring(t *testing.T) {
	p, err := Parse("p.yaml", []byte(good), testCatalog)
	if err != nil {
		t.Fatal(err)
	}
	if p.Models.Keep != DefaultKeep || p.Monitoring.Prometheus != "" {
		t.Errorf("defaults: %+v %+v", p.Models, p.Monitoring)
	}
	p, err = Parse("p.yaml", []byte(good+"models: {keep: 3}\nmonitoring:\n  prometheus: /var/lib/node_exporter/siamese.prom\n"), testCatalog)
	if err != nil {
		t.Fatal(err)
	}
	if p.Models.Keep != 3 || p.Monitoring.Prometheus != "/var/lib/node_exporter/siamese.prom" {
		t.Errorf("parsed: %+v %+v", p.Models, p.Monitoring)
	}

	const stages = "stages:\n  gen:\n    outs: [gen.npy]\n" // lines 1-3
	for _, tt := range []struct {
		name, yaml string
		line       int
		want       string
	}{
		{"models not a mapping", "models: 10\n", 4, "models: want a mapping like {keep: 10}, got int 10"},
		{"keep zero", "models:\n  keep: 0\n", 5, "models: keep: 0 is not in [1, )"},
		{"keep a string", "models:\n  keep: ten\n", 5, `models: keep: want int, got string "ten"`},
		{"keep a float", "models: {keep: 2.5}\n", 4, "models: keep: want int, got float 2.5"},
		{"unknown models key", "models:\n  keep: 2\n  max: 3\n", 6, `models: unknown key "max" (want keep)`},
		{"duplicate keep", "models:\n  keep: 2\n  keep: 3\n", 6, `duplicate key "keep" (first at line 5)`},
		{"monitoring a list", "monitoring: [a.prom]\n", 4, "monitoring: want a mapping"},
		{"prometheus not .prom", "monitoring:\n  prometheus: metrics.txt\n", 5, "reads only *.prom files"},
		{"prometheus empty", "monitoring:\n  prometheus: \"\"\n", 5, "want a file path"},
		{"prometheus a number", "monitoring:\n  prometheus: 3\n", 5, "want a file path, got int 3"},
		{"unknown monitoring key", "monitoring:\n  statsd: x\n", 5, `monitoring: unknown key "statsd" (want prometheus)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(stages+tt.yaml), testCatalog)
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("want *Error, got %v", err)
			}
			if perr.Line != tt.line || !strings.Contains(perr.Msg, tt.want) {
				t.Errorf("got %q (line %d), want line %d with %q", err, perr.Line, tt.line, tt.want)
			}
		})
	}
}

// FuzzParseServing: whatever the models and monitoring blocks hold, a
// parsed pipeline keeps at least one model and names a .prom file or none.
func FuzzParseServing(f *testing.F) {
	f.Add([]byte(good + "models: {keep: 3}\nmonitoring: {prometheus: a.prom}\n"))
	f.Add([]byte(good + "models:\n  keep: -1\nmonitoring:\n  prometheus: [x]\n"))
	f.Add([]byte(good + "models: ~\nmonitoring: {}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("f.yaml", data, testCatalog)
		if err != nil {
			return
		}
		if p.Models.Keep < 1 || (p.Monitoring.Prometheus != "" && !strings.HasSuffix(p.Monitoring.Prometheus, ".prom")) {
			t.Fatalf("parsed models %+v, monitoring %+v", p.Models, p.Monitoring)
		}
	})
}
