"""The review stage: the exception queue operators work, and their decisions flowing back."""
