// Package pipeline reads pipeline.yaml: the stages of a pipeline, the stages
// each depends on, their typed params and the files they write under the
// artifacts root. Parse checks the file strictly against a Catalog of the
// stage implementations it may use, so that every mistake is reported with
// the file and line before anything runs.
package pipeline
