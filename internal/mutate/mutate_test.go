package mutate

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

const src = `package p

import "fmt"

func f(a, b int, ok bool) (int, error) {
	if a < b && ok {
		a++
	}
	if ok {
		g()
	}
	if a == 3 {
		return 0, fmt.Errorf("a is %d", a+1)
	}
	s := "x" + "y"
	_ = s
	return a * b * a, nil
}

func g() {}
`

func TestFind(t *testing.T) {
	ms, err := Find("p/p.go", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Op+" "+m.From+" → "+m.To)
		mutated := m.Apply([]byte(src))
		if _, err := parser.ParseFile(token.NewFileSet(), "p.go", mutated, 0); err != nil {
			t.Errorf("%s: the mutant does not parse: %v\n%s", m, err, mutated)
		}
		if string(mutated) == src {
			t.Errorf("%s changes nothing", m)
		}
	}
	want := []string{
		"if-not a < b && ok → !(a < b && ok)",
		"logical && → ||",
		"boundary < → <=",
		"negate < → >=",
		"incdec ++ → --",
		"if-not ok → !(ok)",
		"drop-call g() → (dropped)",
		"negate == → !=",
		// Not the a+1 inside fmt.Errorf, nor the string concatenation.
		"arithmetic * → /",
		"arithmetic * → /",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("mutants:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestApplyAndKey(t *testing.T) {
	ms, err := Find("p/p.go", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, m := range ms {
		if keys[m.Key()] {
			t.Errorf("two mutants share the key %s", m.Key())
		}
		keys[m.Key()] = true
		if m.Func != "f" {
			t.Errorf("%s: in %q, want f", m, m.Func)
		}
	}
	m := ms[2] // boundary < → <=
	if got := string(m.Apply([]byte(src))); !strings.Contains(got, "if a <= b && ok {") {
		t.Errorf("applied:\n%s", got)
	}
	// A line moved keeps its key.
	moved, _ := Find("p/p.go", []byte(strings.Replace(src, "import \"fmt\"\n", "import \"fmt\"\n\n// a comment\n", 1)))
	if moved[2].Key() != m.Key() || moved[2].Line != m.Line+2 {
		t.Errorf("moved: %s (%s), was %s (%s)", moved[2], moved[2].Key(), m, m.Key())
	}
	if _, err := Find("bad.go", []byte("package")); err == nil {
		t.Error("a file that does not parse: no error")
	}
}
