package sweep

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/siamese-pipeline/siamese/pipeline"
	"github.com/siamese-pipeline/siamese/runner"
)

// StageRuns counts, over the variant roots of the sweep in dir, the stage
// records of the stages that ran and of those whose outputs were shared,
// by stage: how much running the sharing saved.
func StageRuns(dir string) (ran, shared map[string]int, err error) {
	recs, err := filepath.Glob(filepath.Join(dir, "variants", "*", pipeline.Internal, "stages", "*.json"))
	if err != nil {
		return nil, nil, err
	}
	ran, shared = map[string]int{}, map[string]int{}
	for _, p := range recs {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, err
		}
		var rec runner.Record
		if err := json.Unmarshal(data, &rec); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p, err)
		}
		if rec.SharedFrom == "" {
			ran[rec.Stage]++
		} else {
			shared[rec.Stage]++
		}
	}
	return ran, shared, nil
}
