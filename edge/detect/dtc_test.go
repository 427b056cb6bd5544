package detect

import (
	"testing"

	"github.com/fleetwire/fleetwire/shared/event"
)

func TestDTC(t *testing.T) {
	detected := func(sec float64, code string) Emission {
		return em(event.TypeDTCDetected, sec, event.DTCDetectedData{Code: code, Source: "j1939"})
	}
	cleared := func(sec float64, code string, activeS float64) Emission {
		return em(event.TypeDTCCleared, sec, event.DTCClearedData{Code: code, Source: "j1939", ActiveS: activeS})
	}
	report := func(first, last float64, codes ...string) step {
		return every(first, last, 1, func(s float64) step { return dtcs(s, codes...) })
	}
	cases := []struct {
		name  string
		steps []step
		want  []Emission
	}{
		{
			name: "detected once; a few missed reports are no clearing",
			steps: []step{
				report(0, 10, "P0301"),
				report(11, 20), // missing for 10 s
				report(21, 21, "P0301"),
				report(22, 60), // missing for good from 22 s
			},
			want: []Emission{detected(0, "P0301"), cleared(52, "P0301", 22)},
		},
		{
			name: "several codes, one event each, in code order",
			steps: []step{
				dtcs(0, "P0420", "P0301"),
				dtcs(5, "SPN 110 FMI 0", "P0420"),
				tick(20), tick(35), tick(40),
			},
			want: []Emission{
				detected(0, "P0301"), detected(0, "P0420"),
				detected(5, "SPN 110 FMI 0"),
				cleared(35, "P0301", 5),
			},
		},
		{
			name:  "no report, no events",
			steps: []step{tick(0), tick(100)},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check(t, run(t, NewDTC(Default()), stateDefaults, c.steps), c.want)
		})
	}
}
