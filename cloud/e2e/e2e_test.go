package e2e

import (
	"context"
	"testing"
	"time"
)

// TestEndToEnd: three vehicles, each a real agent with its own leaf node,
// drive real recorded routes; every event reaches the receiver once, in
// order per vehicle, signed.
func TestEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := startCloud(t, ctx)
	files := map[string]string{"regensburg": "20100411_Geko_Regensburg.txt", "munich": "munich-gps.nmea", "swiss": "20100403_Z205_Switzerland.txt"}
	var vs []*vehicle
	for id, file := range files {
		v := startVehicle(t, ctx, c, id)
		v.drive(ctx, loadFixes(t, file, 150))
		vs = append(vs, v)
	}
	assertDelivered(t, ctx, c, vs...)
}

// TestOfflineEdge cuts the vehicle's link (connections reset, then a silent
// black hole), keeps driving, restarts the agent from its store while still
// offline, and restores the link: everything arrives, once, in order.
func TestOfflineEdge(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c := startCloud(t, ctx)
	v := startVehicle(t, ctx, c, "v1")
	fixes := loadFixes(t, "munich-gps.nmea", 400)

	v.drive(ctx, fixes[:50])
	online := len(v.storedEvents()) // positions and the events they completed
	if _, err := c.rcv.WaitFor(ctx, online); err != nil {
		t.Fatal(err)
	}
	v.proxy.Cut()
	v.drive(ctx, fixes[50:150]) // offline
	v.shutdown()                // restarted from its store, still offline
	v.start(ctx)
	v.drive(ctx, fixes[150:250])
	if n := len(c.rcv.Deliveries()); n != online {
		t.Fatalf("%d deliveries while the vehicle was offline, want the %d sent before the cut", n, online)
	}
	v.proxy.Restore()
	assertDelivered(t, ctx, c, v)

	v.proxy.Pause() // black hole: nothing passes, nothing is reset
	v.drive(ctx, fixes[250:350])
	v.proxy.Restore()
	v.drive(ctx, fixes[350:400])
	assertDelivered(t, ctx, c, v)
}

// TestHubRestart stops the whole cloud (hub and dispatcher) while events
// flow and starts it again from its store on the same ports: vehicles
// buffer meanwhile, and nothing is lost or reordered.
func TestHubRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c := startCloud(t, ctx)
	v1 := startVehicle(t, ctx, c, "v1")
	v2 := startVehicle(t, ctx, c, "v2")
	f1 := loadFixes(t, "20100411_Geko_Regensburg.txt", 300)
	f2 := loadFixes(t, "munich-gps.nmea", 300)
	v1.drive(ctx, f1[:100])
	v2.drive(ctx, f2[:100])
	c.shutdown()
	v1.drive(ctx, f1[100:200]) // hub down
	v2.drive(ctx, f2[100:200])
	c.start(ctx)
	v1.drive(ctx, f1[200:])
	v2.drive(ctx, f2[200:])
	assertDelivered(t, ctx, c, v1, v2)
}

// TestHubUnreachableAtStart starts a vehicle before the cloud exists: it
// records locally, then delivers everything once the hub comes up.
func TestHubUnreachableAtStart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := startCloud(t, ctx)
	c.shutdown()
	v := startVehicle(t, ctx, c, "early")
	v.drive(ctx, loadFixes(t, "munich-gps.nmea", 60))
	c.start(ctx)
	assertDelivered(t, ctx, c, v)
}
