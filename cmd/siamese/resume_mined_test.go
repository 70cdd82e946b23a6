package main

import "testing"

// minedResumeArgs run examples/quality.yaml, the mined recipe, small.
func minedResumeArgs(src, root string) []string {
	return []string{"-f", "../../examples/quality.yaml", "--artifacts", root, "run", "--no-gate",
		"--set", "ingest.source=" + src, "--set", "triplets.per_class=200", "--set", "train.epochs=4",
		"--set", "train.train_images=8000", "--set", "evaluate.queries=200", "--set", "evaluate.pca_points=100"}
}

// TestMinedTrainKilledAndResumed: a mined training killed with SIGKILL in
// its third epoch resumes and ends with the weights of an uninterrupted run.
func TestMinedTrainKilledAndResumed(t *testing.T) {
	killAndResume(t, minedResumeArgs)
}
