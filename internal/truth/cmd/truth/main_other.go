//go:build !linux

// Command truth needs Linux: its truth comes from per-thread CPU clocks and
// /proc.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "truth: the truth harness runs on Linux only (per-thread CPU clocks, /proc)")
	os.Exit(2)
}
