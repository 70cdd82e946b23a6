package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// setArgs is noArgs for commands with --set: a word left over after a
// --set without "=" (--set train.epochs 2) is its value, written apart.
func setArgs(sets *[]string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			for _, s := range *sets {
				if !strings.Contains(s, "=") {
					return usageError{fmt.Errorf("--set %s %s: write --set %s=%s (stage.param=value, one word)", s, args[0], s, args[0])}
				}
			}
		}
		return noArgs(c, args)
	}
}
