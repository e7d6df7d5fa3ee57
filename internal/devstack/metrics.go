package devstack

// TemporalMetricsURL is where the Temporal server serves its Prometheus metrics, among them the
// billable actions it counted (`action`).
func (s *Stack) TemporalMetricsURL() string {
	return "http://" + hostPort(s.ports.temporalMetrics) + "/metrics"
}
