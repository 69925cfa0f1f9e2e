package main

import (
	"strings"
	"testing"

	"github.com/threeway-tcp/threeway/ladder"
)

// Column positions of an uncoloured demo line.
var (
	geom      = ladder.DemoGeometry
	timeWidth = geom.TimeWidth
	lineWidth = geom.LineWidth
	leftLife  = geom.LeftLife()
	rightLife = geom.RightLife()
)

func leftCol(line string) string {
	r := []rune(line)
	if len(r) < leftLife {
		return ""
	}
	return strings.TrimSpace(string(r[timeWidth+1 : leftLife]))
}

func midCol(line string) string {
	r := []rune(line)
	if len(r) <= rightLife {
		return ""
	}
	return string(r[leftLife+1 : rightLife])
}

func rightCol(line string) string {
	r := []rune(line)
	if len(r) <= rightLife+1 {
		return ""
	}
	return strings.TrimSpace(string(r[rightLife+1:]))
}

func timeCol(line string) string {
	r := []rune(line)
	return strings.TrimSpace(string(r[:min(len(r), timeWidth)]))
}

// findLine returns the index of the first line at or after from containing s.
func findLine(t *testing.T, lines []string, from int, s string) int {
	t.Helper()
	for i := from; i < len(lines); i++ {
		if strings.Contains(lines[i], s) {
			return i
		}
	}
	t.Fatalf("no line after %d contains %q in\n%s", from, s, strings.Join(lines, "\n"))
	return -1
}
