package history

// DataStage is the stage whose params name a run's dataset.
const DataStage = "ingest"

// SameData reports whether runs a and b read the same dataset: the same
// Dataset (source and classes) where either recorded one, else the same
// ingest params (both without any count as the same).
func SameData(a, b *Run) bool {
	if a.Dataset != nil || b.Dataset != nil {
		return a.Dataset.Same(b.Dataset)
	}
	return FormatParam(a.Params[DataStage]) == FormatParam(b.Params[DataStage])
}

// LastWithMetrics returns the last of runs (oldest first) that recorded
// metrics, or nil: the run a new run's metrics are best compared with (a
// run that failed early, or ran only some stages, has none to compare).
func LastWithMetrics(runs []*Run) *Run {
	for i := len(runs) - 1; i >= 0; i-- {
		if len(runs[i].Metrics) > 0 {
			return runs[i]
		}
	}
	return nil
}

// Recent returns, oldest first, the last n of runs (oldest first) that
// recorded metrics and read the same dataset as r. r itself, when it is
// among runs, counts like any other.
func Recent(runs []*Run, r *Run, n int) []*Run {
	var out []*Run
	for i := len(runs) - 1; i >= 0 && len(out) < n; i-- {
		if len(runs[i].Metrics) > 0 && SameData(runs[i], r) {
			out = append(out, runs[i])
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
