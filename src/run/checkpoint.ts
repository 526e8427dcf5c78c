// Checkpoints as one safetensors file: parameters and buffers under their PyTorch state_dict
// names, AdamW moments per parameter, and the trainer's position as JSON metadata.
import type { TensorData } from '../../graphs/onnx/builder.ts';
import type { TypedArray } from '../../graphs/onnx/dtype.ts';
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
  /** Sums over the batches done in the epoch in progress (loss, count, metrics), so a resumed epoch reports all of them. */
  epochSums?: { loss: number; batches: number; metrics: Record<string, number> };
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

/**
 * A content check over every tensor's bytes, in file order (FNV-1a over 32-bit words, then the tail
 * bytes): a checkpoint whose data changed after it was written fails to load.
 */
export function contentCheck(tensors: Map<string, TensorData>): string {
  let h = 0x811c9dc5;
  for (const [, t] of tensors) {
    const d = t.data as TypedArray;
    const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    const words = Math.floor(bytes.length / 4);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < words; i++) h = Math.imul(h ^ view.getUint32(i * 4, true), 0x01000193);
    for (let i = words * 4; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
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
    layout: JSON.stringify(c.layout),
    check: contentCheck(tensors),
  });
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Reads a checkpoint written by `encodeCheckpoint`. Verifies the container, the content check, and that
 * the optimizer layout stored in the file agrees with `layout` (the current graphs': names, shapes and
 * offsets); without `layout` the stored one is used, so a checkpoint can be read without building any
 * graph. Throws a plain Error saying what is wrong; callers add the file name.
 */
export function decodeCheckpoint(bytes: Uint8Array, layout?: FlatSlot[]): Checkpoint {
  const { tensors, metadata } = decodeSafetensors(bytes);
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new Error(`not an ocsf-embed checkpoint (format ${metadata.format ?? 'missing'})`);
  }
  if (metadata.check !== undefined && metadata.check !== contentCheck(tensors)) {
    throw new Error('its content check fails: the tensors changed after it was written');
  }
  const stored = metadata.layout !== undefined ? (JSON.parse(metadata.layout) as FlatSlot[]) : null;
  if (layout && stored) {
    const first = layout.find(
      (s, i) =>
        stored[i]?.name !== s.name || !sameShape(stored[i]!.shape, s.shape) || stored[i]!.offset !== s.offset,
    );
    if (first || stored.length !== layout.length) {
      const theirs = stored.find((s) => s.name === first?.name);
      throw new Error(
        first
          ? `it belongs to another model: ${first.name} is [${theirs?.shape ?? 'absent'}] there but [${first.shape}] here`
          : `it belongs to another model: ${stored.length} parameters there, ${layout.length} here`,
      );
    }
  }
  const slots = layout ?? stored ?? [];
  const total = slots.reduce((a, s) => a + s.size, 0);
  const m = new Float32Array(total);
  const v = new Float32Array(total);
  for (const slot of slots) {
    const em = tensors.get(`optim.${slot.name}.exp_avg`);
    const ev = tensors.get(`optim.${slot.name}.exp_avg_sq`);
    if (!em || !ev) throw new Error(`it has no optimizer state for ${slot.name}`);
    if (em.data.length !== slot.size || ev.data.length !== slot.size) {
      throw new Error(`its optimizer state for ${slot.name} has the wrong size`);
    }
    const p = tensors.get(slot.name);
    if (p && !sameShape(p.dims, slot.shape)) {
      throw new Error(
        `it belongs to another model: ${slot.name} is [${p.dims}] there but [${slot.shape}] here`,
      );
    }
    m.set(em.data as Float32Array, slot.offset);
    v.set(ev.data as Float32Array, slot.offset);
  }
  const state = new Map([...tensors].filter(([k]) => !k.startsWith('optim.')));
  return {
    state,
    moments: { m, v },
    layout: slots,
    position: JSON.parse(metadata.position ?? '{}') as TrainerPosition,
    info: JSON.parse(metadata.info ?? '{}') as Record<string, unknown>,
  };
}

/** The parameter names and shapes a checkpoint stores (its optimizer layout), read without building graphs. */
export function checkpointLayout(bytes: Uint8Array): FlatSlot[] {
  return decodeCheckpoint(bytes).layout;
}
