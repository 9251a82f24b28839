//go:build race

package main

// raceEnabled says whether the tests (and the udplab they build) run under the race detector,
// which makes every memory access several times slower: the floors of time bounds grow with it.
const raceEnabled = true
