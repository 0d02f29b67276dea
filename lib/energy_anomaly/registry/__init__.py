"""The model lifecycle on MLflow: tracked training runs, registered versions, aliases, promotion."""
