// Checkpoints as one safetensors file: parameters and buffers under their PyTorch state_dict
// names, AdamW moments per parameter, and the trainer's position as JSON metadata.
import type { TensorData } from '../../graphs/onnx/builder.ts';
import type { FlatSlot } from '../../graphs/optim/adamw.ts';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.ts';

export const CHECKPOINT_FORMAT = 'ocsf-embed.checkpoint/1';

/** Where training stands: enough to continue exactly where it stopped. */
export interface TrainerPosition {
  /** Optimisation steps completed. */
  step: number;
  /** Zero-based epoch in progress, and how many of its batches are done. */
  epoch: number;
  batchInEpoch: number;
  best: { valLoss: number; epoch: number; step: number } | null;
  badEpochs: number;
  finished: boolean;
  stopReason: string | null;
}

export interface Checkpoint {
  /** Parameters and buffers by state_dict name. */
  state: Map<string, TensorData>;
  /** Flat AdamW moments and their layout. */
  moments: { m: Float32Array; v: Float32Array };
  layout: FlatSlot[];
  position: TrainerPosition;
  /** Anything else worth keeping with the weights (config, versions). */
  info: Record<string, unknown>;
}

/** Serialises a checkpoint; moments are stored per parameter as `optim.<name>.exp_avg(_sq)`. */
export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const tensors = new Map(c.state);
  for (const slot of c.layout) {
    const piece = (flat: Float32Array) => flat.slice(slot.offset, slot.offset + slot.size);
    tensors.set(`optim.${slot.name}.exp_avg`, {
      dtype: 'float32',
      dims: slot.shape,
      data: piece(c.moments.m),
    });
    tensors.set(`optim.${slot.name}.exp_avg_sq`, {
      dtype: 'float32',
      dims: slot.shape,
      data: piece(c.moments.v),
    });
  }
  return encodeSafetensors(tensors, {
    format: CHECKPOINT_FORMAT,
    position: JSON.stringify(c.position),
    info: JSON.stringify(c.info),
  });
}

/** Reads a checkpoint written by `encodeCheckpoint`, against the layout of the current graphs. */
export function decodeCheckpoint(bytes: Uint8Array, layout: FlatSlot[]): Checkpoint {
  const { tensors, metadata } = decodeSafetensors(bytes);
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new Error(`not an ocsf-embed checkpoint (format ${metadata.format ?? 'missing'})`);
  }
  const total = layout.reduce((a, s) => a + s.size, 0);
  const m = new Float32Array(total);
  const v = new Float32Array(total);
  for (const slot of layout) {
    const em = tensors.get(`optim.${slot.name}.exp_avg`);
    const ev = tensors.get(`optim.${slot.name}.exp_avg_sq`);
    if (!em || !ev) throw new Error(`the checkpoint has no optimizer state for ${slot.name}`);
    m.set(em.data as Float32Array, slot.offset);
    v.set(ev.data as Float32Array, slot.offset);
  }
  const state = new Map([...tensors].filter(([k]) => !k.startsWith('optim.')));
  return {
    state,
    moments: { m, v },
    layout,
    position: JSON.parse(metadata.position ?? '{}') as TrainerPosition,
    info: JSON.parse(metadata.info ?? '{}') as Record<string, unknown>,
  };
}
