package history

// Interrupted is the outcome of a run a signal stopped (SIGINT, SIGTERM).
const Interrupted = "interrupted"
