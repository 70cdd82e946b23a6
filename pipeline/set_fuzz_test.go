package pipeline

import (
	"strings"
	"testing"
)

// FuzzSet feeds --set arguments to a parsed pipeline: each is applied, or
// refused with an error naming the argument, and an applied value keeps
// its param's type and range.
func FuzzSet(f *testing.F) {
	for _, s := range []string{"gen.n=7", "gen.n=0", "gen.scale=1e400", "gen.scale=.nan", "gen.mode=b",
		"gen.sizes=[1, 2]", "gen.sizes=[]", "gen.fast=yes", "gen.n={a: 1}", "gen.n=&a [*a]", "gen", "=", ".=", "gen.n=!!binary AAAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, assign string) {
		p, err := Parse("p.yaml", []byte(good), testCatalog)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Set(assign); err != nil {
			if !strings.Contains(err.Error(), "--set "+assign) {
				t.Fatalf("error %q does not name the argument %q", err, assign)
			}
			return
		}
		s := p.Stage("gen")
		if err := s.checkParams(func(param string, err error) error { return err }); err != nil {
			t.Fatalf("--set %q applied a value its Spec refuses: %v", assign, err)
		}
	})
}
