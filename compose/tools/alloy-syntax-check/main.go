// Parses Alloy configuration files with Alloy's own syntax parser (github.com/grafana/alloy/syntax).
package main

import (
	"fmt"
	"os"

	"github.com/grafana/alloy/syntax/parser"
)

func main() {
	failed := false
	for _, name := range os.Args[1:] {
		bs, err := os.ReadFile(name)
		if err == nil {
			_, err = parser.ParseFile(name, bs)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			failed = true
			continue
		}
		fmt.Println("ok", name)
	}
	if failed {
		os.Exit(1)
	}
}
