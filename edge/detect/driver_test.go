package detect

import (
	"testing"

	"github.com/fleetwire/fleetwire/shared/event"
)

func TestDriver(t *testing.T) {
	changed := func(sec float64, from, to string) Emission {
		return em(event.TypeDriverChanged, sec, event.DriverChangedData{PreviousDriverID: from, DriverID: to, Source: "input"})
	}
	steps := []step{
		driver(0, ""), // nobody yet
		driver(5, "D-17"),
		driver(10, "D-17"), // the card is read again
		tick(15),
		driver(20, "D-42"),
		driver(30, ""), // logout
		driver(40, ""),
	}
	want := []Emission{changed(5, "", "D-17"), changed(20, "D-17", "D-42"), changed(30, "D-42", "")}
	check(t, run(t, NewDriver(), stateDefaults, steps), want)
}
