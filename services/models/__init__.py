"""The model lifecycle: dataset versions, the model registry, rollout (shadow and canary)."""
