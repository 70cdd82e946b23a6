package nprand

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/siamese-pipeline/siamese/internal/pytest"
	"github.com/siamese-pipeline/siamese/internal/testenv"
)

// paritySeeds are the seeds every stream test covers.
var paritySeeds = []uint32{0, 42, 12345, math.MaxUint32}

// choiceNs are the populations compared against numpy's choice. Those up to
// 70000 use choice(np.arange(n)); bigger ones use choice(n), the same
// randint(0, n) path without allocating. 2^32 hits numpy's rng == 0xFFFFFFFF
// special case, 2^32+1 and up the 64-bit path.
var choiceNs = []int{1, 2, 3, 7, 1000, 6000, 63000, 70000, 1<<31 + 7, 1<<32 - 1, 1 << 32, 1<<32 + 1, 1<<40 + 3, 1<<62 + 5}

var permNs = []int{0, 1, 2, 3, 10, 1000, 30000}

var splitCases = []struct {
	N  int     `json:"n"`
	TS float64 `json:"ts"`
}{
	{20, 0.05}, {20, 0.25}, {100, 0.05}, {100, 0.25}, {30000, 0.05}, {30000, 0.25},
	{30, 0.1}, {7, 0.3}, {1000, 0.333}, {2, 0.5},
	// sklearn rejects these.
	{20, 0}, {20, 1}, {20, -0.1}, {20, 1.5}, {1, 0.5}, {10, 0.95},
}

const parityScript = `
import json, sys
import numpy as np
from sklearn.model_selection import train_test_split

cfg = json.load(open(sys.argv[1]))
out = {"numpy": np.__version__}

def raw(rs, k):
    bg = getattr(rs, "_bit_generator", None)
    if bg is not None and hasattr(bg, "random_raw"):
        return [int(v) for v in bg.random_raw(k)]
    return [int(v) for v in rs.randint(0, 2**32, size=k, dtype=np.uint64)]

out["uint32"] = [raw(np.random.RandomState(s), 1000) for s in cfg["seeds"]]

ch = []
for s in cfg["seeds"]:
    per = []
    for n in cfg["choice_ns"]:
        rs = np.random.RandomState(s)
        a = np.arange(n) if n <= 70000 else n
        per.append([int(rs.choice(a)) for _ in range(200)])
    ch.append(per)
out["choice"] = ch

ri = []
for s in cfg["seeds"]:
    rs = np.random.RandomState(s)
    ri.append([int(rs.randint(0, n)) for n in cfg["choice_ns"] for _ in range(20)])
out["randint"] = ri

out["float"] = [[float(v) for v in np.random.RandomState(s).random_sample(100)] for s in cfg["seeds"]]

out["perm"] = [[np.random.RandomState(s).permutation(n).tolist() for n in cfg["perm_ns"]] for s in cfg["seeds"]]

# shuffle of a non-arange array, continuing a stream that already drew.
sh = []
for s in cfg["seeds"]:
    rs = np.random.RandomState(s)
    rs.choice(np.arange(5))
    x = (np.arange(500, dtype=np.int64) * 7 - 100)
    rs.shuffle(x)
    sh.append(x.tolist() + [int(rs.randint(0, 1000))])
out["shuffle"] = sh

# The notebook's triplet loop on synthetic labels.
labels = np.random.RandomState(7).randint(0, 10, 2000)
out["labels"] = labels.tolist()
nb = []
for s in cfg["seeds"]:
    np.random.seed(s)
    got = []
    for c in range(10):
        anchor_indices = np.where(labels == c)[0]
        positive_indices = anchor_indices
        negative_indices = np.where(labels != c)[0]
        for _ in range(50):
            a = np.random.choice(anchor_indices)
            p = np.random.choice(positive_indices)
            n = np.random.choice(negative_indices)
            got += [int(a), int(p), int(n)]
    nb.append(got)
out["notebook"] = nb

# numpy state after some draws, and the draws that follow it.
rs = np.random.RandomState(42)
rs.random_sample(700)
st = rs.get_state()
out["state"] = {"key": [int(v) for v in st[1]], "pos": int(st[2]), "has_gauss": int(st[3]),
                "cached_gaussian": float(st[4]),
                "next": [int(rs.choice(70000)) for _ in range(50)]}

sp = []
for c in cfg["split"]:
    for seed in (42, 0):
        try:
            tr, te = train_test_split(np.arange(c["n"]), test_size=float(c["ts"]), random_state=seed)
            sp.append({"ok": True, "train": tr.tolist(), "test": te.tolist()})
        except ValueError as e:
            sp.append({"ok": False, "err": str(e)})
out["split"] = sp

json.dump(out, sys.stdout)
`

type parityData struct {
	Numpy    string       `json:"numpy"`
	Uint32   [][]uint32   `json:"uint32"`
	Choice   [][][]int    `json:"choice"`
	Randint  [][]int      `json:"randint"`
	Float    [][]float64  `json:"float"`
	Perm     [][][]int    `json:"perm"`
	Shuffle  [][]int      `json:"shuffle"`
	Labels   []int        `json:"labels"`
	Notebook [][]int      `json:"notebook"`
	State    parityState  `json:"state"`
	Split    []paritySplt `json:"split"`
}

type parityState struct {
	State
	Next []int `json:"next"`
}

type paritySplt struct {
	OK    bool   `json:"ok"`
	Err   string `json:"err"`
	Train []int  `json:"train"`
	Test  []int  `json:"test"`
}

var (
	parityOnce sync.Once
	parityRes  *parityData
	paritySkip string
)

// numpyParity runs parityScript once per test binary and caches its output.
func numpyParity(t *testing.T) *parityData {
	t.Helper()
	parityOnce.Do(func() {
		if paritySkip = pytest.Missing("numpy", "sklearn"); paritySkip != "" {
			return
		}
		dir := t.TempDir()
		script := filepath.Join(dir, "parity.py")
		cfgPath := filepath.Join(dir, "cfg.json")
		cfg, err := json.Marshal(map[string]any{
			"seeds": paritySeeds, "choice_ns": choiceNs, "perm_ns": permNs, "split": splitCases,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(script, []byte(parityScript), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(pytest.Python, script, cfgPath)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("parity script failed: %v\n%s", err, stderr.String())
		}
		var d parityData
		if err := json.Unmarshal(stdout.Bytes(), &d); err != nil {
			t.Fatalf("decoding parity output: %v", err)
		}
		parityRes = &d
	})
	if parityRes == nil {
		if paritySkip == "" {
			t.Fatal("numpy parity data unavailable (earlier failure)")
		}
		testenv.Missing(t, paritySkip)
	}
	return parityRes
}

func TestParityUint32(t *testing.T) {
	d := numpyParity(t)
	for i, s := range paritySeeds {
		r := New(s)
		for k, want := range d.Uint32[i] {
			if got := r.Uint32(); got != want {
				t.Fatalf("seed %d output %d: got %d, want %d", s, k, got, want)
			}
		}
	}
}

func TestParityChoice(t *testing.T) {
	d := numpyParity(t)
	for i, s := range paritySeeds {
		for j, n := range choiceNs {
			r := New(s)
			for k, want := range d.Choice[i][j] {
				if got := r.Choice(n); got != want {
					t.Fatalf("seed %d Choice(%d) draw %d: got %d, want %d", s, n, k, got, want)
				}
			}
		}
	}
}

func TestParityIntnMixed(t *testing.T) {
	d := numpyParity(t)
	for i, s := range paritySeeds {
		r := New(s)
		k := 0
		for _, n := range choiceNs {
			for range 20 {
				if got, want := r.Intn(n), d.Randint[i][k]; got != want {
					t.Fatalf("seed %d Intn(%d) draw %d: got %d, want %d", s, n, k, got, want)
				}
				k++
			}
		}
	}
}

func TestParityFloat64(t *testing.T) {
	d := numpyParity(t)
	for i, s := range paritySeeds {
		r := New(s)
		for k, want := range d.Float[i] {
			if got := r.Float64(); got != want {
				t.Fatalf("seed %d draw %d: got %v, want %v", s, k, got, want)
			}
		}
	}
}

func TestParityPermutation(t *testing.T) {
	d := numpyParity(t)
	for i, s := range paritySeeds {
		for j, n := range permNs {
			if got := New(s).Permutation(n); !reflect.DeepEqual(got, d.Perm[i][j]) {
				t.Errorf("seed %d Permutation(%d) differs from numpy", s, n)
			}
		}
	}
}

func TestParityShuffle(t *testing.T) {
	d := numpyParity(t)
	for i, s := range paritySeeds {
		r := New(s)
		r.Choice(5)
		x := make([]int, 500)
		for k := range x {
			x[k] = k*7 - 100
		}
		r.Shuffle(x)
		got := append(x, r.Intn(1000))
		if !reflect.DeepEqual(got, d.Shuffle[i]) {
			t.Errorf("seed %d Shuffle differs from numpy", s)
		}
	}
}

func TestParityNotebookTriplets(t *testing.T) {
	d := numpyParity(t)
	for i, s := range paritySeeds {
		r := New(s)
		var got []int
		for c := 0; c < 10; c++ {
			var anchor, negative []int
			for idx, l := range d.Labels {
				if l == c {
					anchor = append(anchor, idx)
				} else {
					negative = append(negative, idx)
				}
			}
			positive := anchor
			for range 50 {
				got = append(got, r.ChoiceFrom(anchor), r.ChoiceFrom(positive), r.ChoiceFrom(negative))
			}
		}
		if !reflect.DeepEqual(got, d.Notebook[i]) {
			t.Errorf("seed %d: triplet indices differ from numpy", s)
		}
	}
}

func TestParitySetStateFromNumpy(t *testing.T) {
	d := numpyParity(t)
	r := New(42)
	for range 700 {
		r.Float64()
	}
	if got := r.State(); got != d.State.State {
		t.Fatalf("State() after 700 random_sample differs from numpy get_state(): pos %d vs %d", got.Pos, d.State.Pos)
	}
	r2 := New(0)
	if err := r2.SetState(d.State.State); err != nil {
		t.Fatal(err)
	}
	for k, want := range d.State.Next {
		if got := r2.Choice(70000); got != want {
			t.Fatalf("draw %d after SetState: got %d, want %d", k, got, want)
		}
	}
}

func TestParityTrainTestSplit(t *testing.T) {
	d := numpyParity(t)
	k := 0
	for _, c := range splitCases {
		for _, seed := range []uint32{42, 0} {
			want := d.Split[k]
			k++
			train, test, err := TrainTestSplit(c.N, c.TS, seed)
			if !want.OK {
				if err == nil {
					t.Errorf("n=%d ts=%v seed=%d: sklearn raised %q, got no error", c.N, c.TS, seed, want.Err)
				}
				continue
			}
			if err != nil {
				t.Errorf("n=%d ts=%v seed=%d: unexpected error %v", c.N, c.TS, seed, err)
				continue
			}
			if !reflect.DeepEqual(train, want.Train) || !reflect.DeepEqual(test, want.Test) {
				t.Errorf("n=%d ts=%v seed=%d: split differs from sklearn (len %d/%d vs %d/%d)",
					c.N, c.TS, seed, len(train), len(test), len(want.Train), len(want.Test))
			}
		}
	}
}
