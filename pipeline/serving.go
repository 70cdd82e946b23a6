package pipeline

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// DefaultKeep is how many promoted models are kept when pipeline.yaml
// does not say.
const DefaultKeep = 10

// Models configures the promoted models under the artifacts root.
type Models struct {
	// Keep is how many promoted models are kept: the oldest beyond it
	// are removed, never the current one.
	Keep int
}

// Monitoring says where to report on the last run.
type Monitoring struct {
	// Prometheus, if set, is the .prom file for node_exporter's textfile
	// collector: absolute, or relative to the artifacts root.
	Prometheus string
}

// parseModels parses the models block: {keep: N}.
func parseModels(n *yaml.Node, fail failFunc) (Models, error) {
	m := Models{Keep: DefaultKeep}
	if n.Kind != yaml.MappingNode {
		return m, fail(n, "models: want a mapping like {keep: 10}, got %s", describe(n))
	}
	err := eachKey(n, fail, func(k, v *yaml.Node) error {
		switch k.Value {
		case "keep":
			x, err := decodeParam(v, 0)
			if err != nil {
				return fail(v, "models: keep: %v", err)
			}
			if m.Keep = x.(int); m.Keep < 1 {
				return fail(v, "models: keep: %d is not in [1, ): the current model is always kept", m.Keep)
			}
		default:
			return fail(k, "models: unknown key %q (want keep)", k.Value)
		}
		return nil
	})
	return m, err
}

// parseMonitoring parses the monitoring block: {prometheus: PATH.prom}.
func parseMonitoring(n *yaml.Node, fail failFunc) (Monitoring, error) {
	var m Monitoring
	if n.Kind != yaml.MappingNode {
		return m, fail(n, "monitoring: want a mapping like {prometheus: siamese.prom}, got %s", describe(n))
	}
	err := eachKey(n, fail, func(k, v *yaml.Node) error {
		switch k.Value {
		case "prometheus":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" || v.Value == "" {
				return fail(v, "monitoring: prometheus: want a file path, got %s", describe(v))
			}
			if !strings.HasSuffix(v.Value, ".prom") {
				return fail(v, "monitoring: prometheus: %q: node_exporter's textfile collector reads only *.prom files", v.Value)
			}
			m.Prometheus = v.Value
		default:
			return fail(k, "monitoring: unknown key %q (want prometheus)", k.Value)
		}
		return nil
	})
	return m, err
}
