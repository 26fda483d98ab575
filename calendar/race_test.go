//go:build race

package calendar

// raceEnabled tells the property tests to run fewer cases.
const raceEnabled = true
