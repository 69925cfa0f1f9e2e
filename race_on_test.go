//go:build race

package threeway

const raceEnabled = true
