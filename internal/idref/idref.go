// Package idref finds an item by its id or by a unique prefix of it, as git
// finds a commit: runs (history) and promoted models (models) are named so.
package idref

import "strings"

// Match returns what ref names among items: the item whose id is ref, or
// else every item whose id starts with ref. None, or more than one, is the
// caller's error to word.
func Match[T any](items []T, ref string, id func(T) string) []T {
	var found []T
	for _, it := range items {
		if id(it) == ref {
			return []T{it}
		}
		if strings.HasPrefix(id(it), ref) {
			found = append(found, it)
		}
	}
	return found
}
