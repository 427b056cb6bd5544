// Package console is fleetwire's web console: plain HTML, CSS and JavaScript
// modules embedded in the binary and served by fleetwire serve under
// /console/. There is no build step and no framework; the browser runs the
// files as they are in static/.
//
// The console holds no state on the server. It asks for an API token, keeps
// it in the tab's sessionStorage, and calls the /v1 REST API (cloud/api) with
// it, so it sees and may do exactly what the token may.
//
// Pages (hash routes, so every page is served by the same index.html):
//
//	#/subscriptions             list: state, queue depth, totals
//	#/subscriptions/new         create form
//	#/subscriptions/{id}        status, actions, delivery log, attempt inspector
//	#/subscriptions/{id}/edit   edit form
//	#/live                      live events (Server-Sent Events read with fetch)
//	#/map                       vehicles' last positions and geofences on an SVG
//
// static/catalogue.json is the event catalogue (shared/event.Catalogue), for
// the event-type choices: regenerate it with go generate; a test fails when it
// is out of date.
package console

//go:generate go test -run TestCatalogueJSON . -update
