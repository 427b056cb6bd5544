package j1939

import (
	"errors"
	"slices"
	"testing"
)

// TestDM1Decode decodes single-frame DM1 payloads built by hand from the
// SAE J1939-73 §5.7.1 layout: lamp byte (MIL bits 8–7, red stop 6–5,
// amber 4–3, protect 2–1), flash byte, then SPN/FMI/CM/OC.
func TestDM1Decode(t *testing.T) {
	tests := []struct {
		name  string
		data  []byte
		lamps Lamps
		dtcs  []DTC
	}{
		{
			name: "no active faults: zero DTC, J1939-73 form",
			data: []byte{0x00, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF},
			lamps: Lamps{
				MIL: Lamp{LampOff, FlashNone}, RedStop: Lamp{LampOff, FlashNone},
				AmberWarning: Lamp{LampOff, FlashNone}, Protect: Lamp{LampOff, FlashNone},
			},
		},
		{
			name: "amber lamp on, one DTC: SPN 100 FMI 1 OC 5",
			data: []byte{0x04, 0xFF, 0x64, 0x00, 0x01, 0x05, 0xFF, 0xFF},
			lamps: Lamps{
				MIL: Lamp{LampOff, FlashNone}, RedStop: Lamp{LampOff, FlashNone},
				AmberWarning: Lamp{LampOn, FlashNone}, Protect: Lamp{LampOff, FlashNone},
			},
			dtcs: []DTC{{SPN: 100, FMI: 1, Occurrences: 5}},
		},
		{
			name: "red stop lamp flashing fast, MIL flashing slow; SPN with its 3 high bits",
			// byte 1 = 01 01 00 00, byte 2 = 00 01 11 11; SPN 0x5ABCD:
			// byte 5 = 101 00011 (SPN bits 19–17, FMI 3); byte 6 = 0 0000010.
			data: []byte{0x50, 0x1F, 0xCD, 0xAB, 0xA3, 0x02, 0xFF, 0xFF},
			lamps: Lamps{
				MIL: Lamp{LampOn, FlashSlow}, RedStop: Lamp{LampOn, FlashFast},
				AmberWarning: Lamp{LampOff, FlashNone}, Protect: Lamp{LampOff, FlashNone},
			},
			dtcs: []DTC{{SPN: 0x5ABCD, FMI: 3, Occurrences: 2}},
		},
		{
			name: "CM bit set: legacy SPN conversion",
			data: []byte{0xFF, 0xFF, 0x6E, 0x00, 0x00, 0x81, 0xFF, 0xFF},
			lamps: Lamps{
				MIL: Lamp{LampNotAvailable, FlashNone}, RedStop: Lamp{LampNotAvailable, FlashNone},
				AmberWarning: Lamp{LampNotAvailable, FlashNone}, Protect: Lamp{LampNotAvailable, FlashNone},
			},
			dtcs: []DTC{{SPN: 110, FMI: 0, Occurrences: 1, LegacyConversion: true}},
		},
		{
			name: "lamp bytes only",
			data: []byte{0x00, 0x00},
			lamps: Lamps{
				MIL: Lamp{LampOff, FlashSlow}, RedStop: Lamp{LampOff, FlashSlow},
				AmberWarning: Lamp{LampOff, FlashSlow}, Protect: Lamp{LampOff, FlashSlow},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d DM1
			if err := d.Decode(tt.data); err != nil {
				t.Fatal(err)
			}
			if d.Lamps != tt.lamps {
				t.Errorf("lamps %+v, want %+v", d.Lamps, tt.lamps)
			}
			if !slices.Equal(d.DTCs, tt.dtcs) {
				t.Errorf("DTCs %v, want %v", d.DTCs, tt.dtcs)
			}
		})
	}
}

func TestDM1Short(t *testing.T) {
	d := DM1{DTCs: []DTC{{SPN: 1}}}
	if err := d.Decode([]byte{0x40}); !errors.Is(err, ErrMalformed) {
		t.Errorf("Decode(1 byte) = %v, want ErrMalformed", err)
	}
	if len(d.DTCs) != 0 {
		t.Errorf("DTCs left over: %v", d.DTCs)
	}
}

// TestDM1NoAllocs decodes the capture's 4-DTC DM1 into a reused DM1.
func TestDM1NoAllocs(t *testing.T) {
	var d DM1
	if err := d.Decode(captureDM1); err != nil {
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(100, func() {
		if err := d.Decode(captureDM1); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per decode", n)
	}
}

func TestDTCString(t *testing.T) {
	if got, want := (DTC{SPN: 3216, FMI: 20, Occurrences: 2}).String(), "SPN 3216 FMI 20 OC 2"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if LampOn.String() != "on" || FlashFast.String() != "fast" {
		t.Error("lamp names")
	}
}
