package geofence_test

import (
	"fmt"
	"log"
	"sync/atomic"

	"github.com/fleetwire/fleetwire/shared/geofence"
)

// The agent keeps the current Index in an atomic.Pointer and swaps in a new
// one when the fences change; lookups never wait.
func ExampleIndex_Lookup() {
	fences, err := geofence.LoadFile("../../testdata/geofences/munich/umweltzone_muenchen.geojson", geofence.LoadOptions{
		IDProperty:   "fileName",
		NameProperty: "displayName",
		Tags:         []string{"low-emission-zone"},
	})
	if err != nil {
		log.Fatal(err)
	}
	var current atomic.Pointer[geofence.Index]
	current.Store(geofence.NewIndex(fences))

	dst := make([]*geofence.Fence, 0, 8) // reused: no allocation per fix
	for _, p := range [][2]float64{{48.1374, 11.5755}, {48.2188, 11.6247}} {
		dst = current.Load().Lookup(p[0], p[1], dst[:0])
		for _, f := range dst {
			fmt.Printf("(%v, %v) in %s (%s), tags %v\n", p[0], p[1], f.Name, f.ID, f.Tags)
		}
		if len(dst) == 0 {
			fmt.Printf("(%v, %v) in no fence\n", p[0], p[1])
		}
	}
	// Output:
	// (48.1374, 11.5755) in München (lez_munich), tags [low-emission-zone]
	// (48.2188, 11.6247) in no fence
}
