package server

import "github.com/fleetwire/fleetwire/cloud/dispatch"

// observeAttempt counts a delivery attempt in the metrics, then hands it
// to the WithOnAttempt observer, if any.
func (s *Server) observeAttempt(a dispatch.Attempt) {
	s.metrics.ObserveAttempt(a)
	if s.onAttempt != nil {
		s.onAttempt(a)
	}
}
