// Package e2e holds the end-to-end and fault tests that span edge and cloud:
// real edge agents with their own leaf nodes, the real hub and dispatcher, a
// loopback webhook receiver, and loopback proxies standing for mobile links.
package e2e
