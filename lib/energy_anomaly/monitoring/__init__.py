"""gold/monitoring: each scoring run's score distribution and flagged rate against training."""
