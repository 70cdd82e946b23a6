package nprand

import (
	"fmt"
	"math"
)

// SplitSizes returns (nTrain, nTest) as sklearn's _validate_shuffle_split
// does for a float test_size and train_size=None: nTest = ceil(testSize*n),
// nTrain = n - nTest. It errors where sklearn raises: testSize not in (0, 1)
// (NaN included) or an empty train or test set.
func SplitSizes(n int, testSize float64) (nTrain, nTest int, err error) {
	if n <= 0 {
		return 0, 0, fmt.Errorf("nprand: n_samples=%d, need at least one sample", n)
	}
	if math.IsNaN(testSize) || testSize <= 0 || testSize >= 1 {
		return 0, 0, fmt.Errorf("nprand: test_size=%v should be a float in the (0, 1) range", testSize)
	}
	nTest = int(math.Ceil(testSize * float64(n)))
	nTrain = n - nTest
	if nTest <= 0 || nTrain <= 0 {
		return 0, 0, fmt.Errorf("nprand: with n_samples=%d and test_size=%v the resulting train or test set is empty", n, testSize)
	}
	return nTrain, nTest, nil
}

// TrainTestSplit returns the row indices that
// sklearn.model_selection.train_test_split(X, test_size=testSize,
// random_state=seed) selects for len(X) == n (shuffle=True, no stratify),
// in sklearn's order: X_train = X[train], X_test = X[test]. It follows
// ShuffleSplit: perm = RandomState(seed).permutation(n),
// test = perm[:nTest], train = perm[nTest:].
func TrainTestSplit(n int, testSize float64, seed uint32) (train, test []int, err error) {
	nTrain, nTest, err := SplitSizes(n, testSize)
	if err != nil {
		return nil, nil, err
	}
	perm := New(seed).Permutation(n)
	test = perm[:nTest:nTest]
	train = perm[nTest : nTest+nTrain]
	return train, test, nil
}
