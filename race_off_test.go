//go:build !race

package threeway

const raceEnabled = false
