// Package webhooks signs fleetwire's webhook deliveries and verifies them on the
// receiving side, as specified by Standard Webhooks (https://www.standardwebhooks.com).
package webhooks
