// Package api is fleetwire's REST API, served by fleetwire serve under /v1:
// subscriptions and their deliveries, geofences, vehicles, streams, a live
// event feed and API tokens. The OpenAPI 3 document (openapi.json, served at
// /v1/openapi.json) describes every route; a test keeps the two in step.
//
// Every request but /v1/openapi.json carries "Authorization: Bearer <token>"
// (see cloud/tokens). A token belongs to one account and sees only that
// account's objects; an operator token sees every account and the streams.
// An object of another account answers 404, exactly as one that does not
// exist, so a token cannot learn what other accounts hold. A role too low for
// a route answers 403: that reveals the route's rights, never an object.
//
// Errors are RFC 9457 problem+json documents; "errors" lists each field at
// fault (JSON names, e.g. "events[2]"). Request bodies are JSON (GeoJSON for
// fences) of bounded size with no unknown fields.
package api
