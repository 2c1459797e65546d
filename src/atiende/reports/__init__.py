"""Reports: metric definitions (docs/metrics.md), SLA policies, exports."""
