package pipeline

import "slices"

// findCycle returns the stage names along a dependency cycle, the first
// repeated at the end, or nil if there is none.
func findCycle(order []*Stage, byName map[string]*Stage) []string {
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(name string) []string
	visit = func(name string) []string {
		switch state[name] {
		case onPath:
			i := slices.Index(path, name)
			return append(slices.Clone(path[i:]), name)
		case done:
			return nil
		}
		state[name] = onPath
		path = append(path, name)
		for _, d := range byName[name].Deps {
			if c := visit(d); c != nil {
				return c
			}
		}
		path = path[:len(path)-1]
		state[name] = done
		return nil
	}
	for _, s := range order {
		if c := visit(s.Name); c != nil {
			slices.Reverse(c) // dep order reads upstream → downstream
			return c
		}
	}
	return nil
}

// topoSort orders stages after their deps, keeping file order otherwise.
// The graph must have no cycle.
func topoSort(order []*Stage, byName map[string]*Stage) []*Stage {
	placed := map[string]bool{}
	var out []*Stage
	var place func(s *Stage)
	place = func(s *Stage) {
		if placed[s.Name] {
			return
		}
		placed[s.Name] = true
		for _, d := range s.Deps {
			place(byName[d])
		}
		out = append(out, s)
	}
	for _, s := range order {
		place(s)
	}
	return out
}

// Downstream returns name and every stage that depends on it, directly or
// not, in dependency order.
func (p *Pipeline) Downstream(name string) []*Stage {
	in := map[string]bool{name: true}
	var out []*Stage
	for _, s := range p.Stages {
		if !in[s.Name] {
			for _, d := range s.Deps {
				if in[d] {
					in[s.Name] = true
					break
				}
			}
		}
		if in[s.Name] {
			out = append(out, s)
		}
	}
	return out
}
