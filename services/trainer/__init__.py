"""`docflow trainer`: retraining triggers consumed from the labels and monitoring.alerts topics,
training jobs run in their own process, candidates scored, gated and registered."""
