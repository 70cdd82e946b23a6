package history

import "strings"

// sourceChanges lists, as changes of kind "data", the stages of run b that
// ran because a file they read from outside the artifacts root changed (the
// runner's reason "source changed: …", "source added: …" or "source
// removed: …"): new data, which neither params nor metrics name. A run
// compared with itself has none.
func sourceChanges(a, b *Run) []Change {
	if a.ID == b.ID {
		return nil
	}
	var out []Change
	for _, s := range b.Stages {
		if s.Outcome == "ran" && strings.HasPrefix(s.Reason, "source ") {
			out = append(out, Change{Kind: "data", Key: s.Name, New: s.Reason})
		}
	}
	return out
}
