// Checks Dockerfiles with BuildKit's own Dockerfile frontend (the parser and instruction decoder
// `docker build` uses) and its build-check linter (`docker build --check` rules), without a daemon.
package main

import (
	"fmt"
	"os"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

func main() {
	failed := false
	for _, name := range os.Args[1:] {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			failed = true
			continue
		}
		result, err := parser.Parse(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			failed = true
			continue
		}
		for _, w := range result.Warnings {
			fmt.Fprintf(os.Stderr, "%s:%d: parser warning: %s\n", name, w.Location.Start.Line, w.Short)
			failed = true
		}
		warnings := 0
		lint := linter.New(&linter.Config{Warn: func(rule, description, url, msg string, location []parser.Range) {
			line := 0
			if len(location) > 0 {
				line = location[0].Start.Line
			}
			fmt.Fprintf(os.Stderr, "%s:%d: %s: %s\n", name, line, rule, msg)
			warnings++
		}})
		stages, metaArgs, err := instructions.Parse(result.AST, lint)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			failed = true
			continue
		}
		if warnings > 0 {
			failed = true
			continue
		}
		fmt.Printf("ok %s: %d stages, %d global args\n", name, len(stages), len(metaArgs))
	}
	if failed {
		os.Exit(1)
	}
}
