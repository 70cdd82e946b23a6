// Package mutate finds the mutants of a Go source file: copies of it with
// one small change of the kind a mistake makes (a comparison's boundary
// moved or its sense reversed, && for ||, + for -, ++ for --, an if's
// condition negated, a call statement dropped). A test suite that passes
// on a mutant has missed that mistake. Changes inside the arguments of
// calls that only build messages (fmt's, errors.New, log and slog calls,
// panic) are left out: they change text, not behaviour.
package mutate

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
)

// Operators names the kinds of change, as Mutant.Op says them.
var Operators = []string{"boundary", "negate", "logical", "arithmetic", "incdec", "if-not", "drop-call"}

// Mutant is one change to a file's source: the bytes [Start, End) become
// Repl.
type Mutant struct {
	File       string // as given to Find
	Func       string // the enclosing function, "" at top level
	Line, Col  int
	Op         string // one of Operators
	From, To   string // what changed, shown to a person
	Start, End int
	Repl       string
	// LineText is the line's source, trimmed; with Func, Op, From, To and
	// Nth it names the mutant in a way line moves do not change.
	LineText string
	Nth      int // how many mutants before it share its other key parts
}

// Key names a mutant across edits that move its line.
func (m Mutant) Key() string {
	return fmt.Sprintf("%s|%s|%s %s→%s|%s|%d", m.File, m.Func, m.Op, m.From, m.To, m.LineText, m.Nth)
}

// String is the mutant as a person reads it.
func (m Mutant) String() string {
	return fmt.Sprintf("%s:%d:%d %s %s → %s", m.File, m.Line, m.Col, m.Op, m.From, m.To)
}

// Apply returns src with the mutant's change made.
func (m Mutant) Apply(src []byte) []byte {
	out := make([]byte, 0, len(src)+len(m.Repl))
	out = append(out, src[:m.Start]...)
	out = append(out, m.Repl...)
	return append(out, src[m.End:]...)
}

// swaps are the binary operators' replacements, by kind.
var swaps = map[token.Token][]struct {
	op string
	to token.Token
}{
	token.LSS:  {{"boundary", token.LEQ}, {"negate", token.GEQ}},
	token.LEQ:  {{"boundary", token.LSS}, {"negate", token.GTR}},
	token.GTR:  {{"boundary", token.GEQ}, {"negate", token.LEQ}},
	token.GEQ:  {{"boundary", token.GTR}, {"negate", token.LSS}},
	token.EQL:  {{"negate", token.NEQ}},
	token.NEQ:  {{"negate", token.EQL}},
	token.LAND: {{"logical", token.LOR}},
	token.LOR:  {{"logical", token.LAND}},
	token.ADD:  {{"arithmetic", token.SUB}},
	token.SUB:  {{"arithmetic", token.ADD}},
	token.MUL:  {{"arithmetic", token.QUO}},
	token.QUO:  {{"arithmetic", token.MUL}},
}

// Find parses src, the source of file, and returns its mutants in source
// order.
func Find(file string, src []byte) ([]Mutant, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("mutate: %w", err)
	}
	lines := strings.Split(string(src), "\n")
	var out []Mutant
	seen := map[string]int{}
	add := func(fn string, pos token.Pos, start, end int, op, from, to, repl string) {
		p := fset.Position(pos)
		m := Mutant{File: file, Func: fn, Line: p.Line, Col: p.Column, Op: op, From: from, To: to,
			Start: start, End: end, Repl: repl, LineText: strings.TrimSpace(lines[p.Line-1])}
		k := m.Key()
		m.Nth = seen[k]
		seen[k]++
		out = append(out, m)
	}
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue // constants and types: mutants there mostly do not compile
		}
		fn := fd.Name.Name
		if fd.Recv != nil && len(fd.Recv.List) > 0 {
			fn = recvName(fd.Recv.List[0].Type) + "." + fn
		}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if messageOnly(n) {
					return false
				}
			case *ast.BinaryExpr:
				if (n.Op == token.ADD) && (isString(n.X) || isString(n.Y)) {
					return true
				}
				for _, s := range swaps[n.Op] {
					start := off(n.OpPos)
					add(fn, n.OpPos, start, start+len(n.Op.String()), s.op, n.Op.String(), s.to.String(), s.to.String())
				}
			case *ast.IncDecStmt:
				to := token.DEC
				if n.Tok == token.DEC {
					to = token.INC
				}
				start := off(n.TokPos)
				add(fn, n.TokPos, start, start+2, "incdec", n.Tok.String(), to.String(), to.String())
			case *ast.IfStmt:
				if b, ok := n.Cond.(*ast.BinaryExpr); ok && len(swaps[b.Op]) > 0 && b.Op != token.LAND && b.Op != token.LOR {
					return true // the comparison's own negation is this mutant
				}
				cond := string(src[off(n.Cond.Pos()):off(n.Cond.End())])
				add(fn, n.Cond.Pos(), off(n.Cond.Pos()), off(n.Cond.End()), "if-not", short(cond), "!("+short(cond)+")", "!("+cond+")")
			case *ast.ExprStmt:
				if call, ok := n.X.(*ast.CallExpr); ok && !messageOnly(call) {
					text := string(src[off(n.Pos()):off(n.End())])
					add(fn, n.Pos(), off(n.Pos()), off(n.End()), "drop-call", short(text), "(dropped)", "")
				}
			}
			return true
		})
	}
	return out, nil
}

func recvName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return recvName(t.X)
	case *ast.IndexExpr:
		return recvName(t.X)
	case *ast.IndexListExpr:
		return recvName(t.X)
	case *ast.Ident:
		return t.Name
	}
	return "?"
}

// messageOnly reports whether a call only builds or prints a message.
func messageOnly(c *ast.CallExpr) bool {
	switch fn := c.Fun.(type) {
	case *ast.Ident:
		return fn.Name == "panic" || fn.Name == "print" || fn.Name == "println"
	case *ast.SelectorExpr:
		if pkg, ok := fn.X.(*ast.Ident); ok && (pkg.Name == "fmt" || pkg.Name == "errors" && fn.Sel.Name == "New") {
			return !strings.HasPrefix(fn.Sel.Name, "Sscan") && !strings.HasPrefix(fn.Sel.Name, "Fscan")
		}
		switch fn.Sel.Name {
		case "Debug", "Info", "Warn", "Log", "Logf", "Helper", "progress", "status":
			return true
		}
	}
	return false
}

func isString(e ast.Expr) bool {
	l, ok := e.(*ast.BasicLit)
	return ok && (l.Kind == token.STRING || l.Kind == token.CHAR)
}

// short is s on one line, at most 60 characters.
func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
