// Package testenv decides what a test does when a tool it needs is
// missing: it skips, saying why, except where the environment promises
// the tool (CI sets SIAMESE_REQUIRE_TOOLS=1 after installing everything),
// where a missing tool is a failure.
package testenv

import (
	"os"
	"testing"
)

// RequireVar is the environment variable that turns skips for missing
// tools into failures.
const RequireVar = "SIAMESE_REQUIRE_TOOLS"

// Required reports whether missing tools fail tests instead of skipping them.
func Required() bool { return os.Getenv(RequireVar) == "1" }

// Missing skips t because of why, or fails it where tools are required.
func Missing(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s (%s=1: every tool the CI script installs must be there)", why, RequireVar)
	}
	t.Skip(why)
}
