"""The network's class: LayoutLM's token classifier that can compute only the positions whose
tags are read (each word's first sub-token), and be trained to pool to them early (a funnel)."""

from __future__ import annotations

from typing import Any

_TAGGER: Any = None
SUB_TOKENS, FUNNEL = "sub-tokens", "funnel"


def tagger_class():  # type: ignore[no-untyped-def]
    """LayoutLM's token classifier over sub-tokens (``input_ids`` batch x tokens).

    Given ``keep`` (batch x outputs: indexes into the tokens, -1 padding; each word's first
    sub-token and the window's ends, as features.windows gives them), it computes only those
    positions' logits: its layers before ``config.pool_at`` read every token, that layer's queries
    are the kept positions alone (its keys and values still every token's) and the layers after it
    read the kept positions alone. With ``pool_at`` the last layer (the default, and every model
    trained before it existed) the logits are exactly the whole model's at those positions, for
    less of the last layer's work; a FUNNEL is trained with it at its second layer and runs the
    layers after it at the words' count.
    """
    global _TAGGER
    if _TAGGER is None:
        from transformers import LayoutLMForTokenClassification

        class LayoutTagger(LayoutLMForTokenClassification):
            def forward(self, input_ids=None, bbox=None, attention_mask=None, labels=None, keep=None,  # type: ignore[no-untyped-def]
                        **kwargs):
                if keep is not None:
                    return self._pooled(input_ids, bbox, attention_mask, keep, labels)
                return super().forward(input_ids=input_ids, bbox=bbox, attention_mask=attention_mask,
                                       labels=labels, **kwargs)

            def _pooled(self, input_ids, bbox, attention_mask, keep, labels):  # type: ignore[no-untyped-def]
                import torch
                from transformers.modeling_outputs import TokenClassifierOutput

                hidden = self.layoutlm.embeddings(input_ids=input_ids, bbox=bbox)

                def bias(mask):  # type: ignore[no-untyped-def]  # as LayoutLMModel extends its mask
                    return (1.0 - mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min

                # No attention_mask: no window of the batch is padded (every token real, every kept
                # position >= 0), and no attention adds a mask of zeros (engines.py: "unpadded").
                layers, split = self.layoutlm.encoder.layer, pool_at(self)
                tokens = bias(attention_mask) if attention_mask is not None else None
                for layer in layers[:split]:
                    hidden = layer(hidden, tokens)
                hidden = _queries_at(layers[split], hidden, tokens, keep)
                words = bias(keep >= 0) if attention_mask is not None else None
                for layer in layers[split + 1:]:
                    hidden = layer(hidden, words)
                logits = self.classifier(self.dropout(hidden))
                loss = (torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1))
                        if labels is not None else None)
                return TokenClassifierOutput(loss=loss, logits=logits)

        _TAGGER = LayoutTagger
    return _TAGGER


def _queries_at(layer: Any, hidden: Any, bias: Any, keep: Any) -> Any:
    """One encoder layer whose queries (and so outputs) are the ``keep`` positions of ``hidden``,
    attending to all of them: LayoutLMLayer's own arithmetic (eager attention), rows left out."""
    import torch

    attention, heads = layer.attention, layer.attention.self
    kept = torch.gather(hidden, 1, keep.clamp(min=0).unsqueeze(-1).expand(-1, -1, hidden.size(-1)))
    size = heads.attention_head_size

    def split(x: Any) -> Any:
        return x.view(x.size(0), x.size(1), -1, size).transpose(1, 2)

    query, key, value = split(heads.query(kept)), split(heads.key(hidden)), split(heads.value(hidden))
    scores = torch.matmul(query, key.transpose(2, 3)) * heads.scaling
    weights = torch.softmax(scores + bias if bias is not None else scores, dim=-1)
    weights = torch.nn.functional.dropout(weights, p=heads.attention_dropout, training=layer.training)
    context = torch.matmul(weights, value).transpose(1, 2).reshape(kept.size(0), kept.size(1), -1)
    return layer.feed_forward_chunk(attention.output(context, kept))


def inputs_of(model: Any) -> str:
    """SUB_TOKENS (every layer but the last over every token), or FUNNEL (pooled to words early)."""
    return FUNNEL if pool_at(model) < model.config.num_hidden_layers - 1 else SUB_TOKENS


def pool_at(model: Any) -> int:
    """The layer whose queries are the kept positions: the last, unless trained otherwise."""
    found = getattr(model.config, "pool_at", None)
    return int(found) if found is not None else model.config.num_hidden_layers - 1
