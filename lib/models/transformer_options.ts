/**
 * The one mapping from a run's model config to the Transformer's options:
 * `layers` → N, `dModel` → d_model, `dFF` → d_ff, `heads` → h, and dropout,
 * positional scheme, learned-table length and norm placement as they are.
 * The encoder–decoder of the sequence tasks and the per-modality sequence
 * encoders of the multimodal models are both built from it.
 *
 * @module
 */
import type { ModelConfig } from "../contract/config.ts";
import type { ModelOptions } from "../nn/encoder_decoder.ts";

/** The Transformer options (`makeModel`, `SequenceEncoder`) of a run's model config. */
export function transformerOptions(model: ModelConfig): Required<ModelOptions> {
  return {
    N: model.layers,
    dModel: model.dModel,
    dFF: model.dFF,
    h: model.heads,
    dropout: model.dropout,
    positional: model.positional,
    maxLen: model.maxLen,
    norm: model.norm,
  };
}
