package split

// BatchBytes lets the tests shrink the gather batches.
var BatchBytes = &batchBytes
