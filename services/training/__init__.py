"""Training, above the stages it trains for: the layout model fine-tuned on labeled documents
(``layout_model``), scored with the evaluation package's normalisers."""
