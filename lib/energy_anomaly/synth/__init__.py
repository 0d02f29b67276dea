"""Synthetic data: labelled anomalies injected into real readings, and LCL-shaped data at scale."""
