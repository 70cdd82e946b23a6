// Package siamese holds the repository's pipeline.yaml, so that the
// program can write new pipelines from it (siamese init).
package siamese

import _ "embed"

// PipelineYAML is the repository's pipeline.yaml.
//
//go:embed pipeline.yaml
var PipelineYAML []byte
