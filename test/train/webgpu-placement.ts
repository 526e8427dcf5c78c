// ONNX Runtime's node placements, read from its verbose session log, and the reason each node that
// stays on the CPU under onnxruntime-web's WebGPU provider cannot move.
import type { Builder, Node, Value } from '../../graphs/onnx/builder.ts';

/** Nodes per execution provider, for each session in the order the log shows them. */
export type Placements = Map<string, { opType: string; name: string }[]>[];

/** Parses `Node(s) placed on [EP]` blocks of ORT's verbose log (one per session created). */
export function parsePlacements(lines: string[]): Placements {
  const sessions: Placements = [];
  let ep: string | null = null;
  // Verbose lines carry no colour codes (only warnings and errors are coloured).
  for (const text of lines.flatMap((l) => l.split('\n'))) {
    const at = text.indexOf('VerifyEachNodeIsAssignedToAnEp]');
    if (at < 0) continue;
    const body = text.slice(at + 'VerifyEachNodeIsAssignedToAnEp]'.length);
    if (body.includes('Node placements')) {
      sessions.push(new Map());
      ep = null;
      continue;
    }
    const header = body.match(/^\s+Node\(s\) placed on \[(\w+)\]/);
    if (header) {
      ep = header[1]!;
      sessions.at(-1)?.set(ep, []);
      continue;
    }
    const node = body.match(/^\s+(\w+) \((.+)\)\s*$/);
    if (node && ep) sessions.at(-1)!.get(ep)!.push({ opType: node[1]!, name: node[2]! });
  }
  return sessions;
}

const BITWISE = new Set(['BitwiseXor', 'BitwiseAnd', 'BitwiseOr', 'BitShift']);

/**
 * Why a node stays on the CPU under the WebGPU provider, from its op and dtypes, or null when
 * no known reason applies (a node that should move).
 */
export function cpuReason(node: Node, cpuNodes: Set<string>): string | null {
  const values = [...node.inputs.filter((v): v is Value => v !== null), ...node.outputs];
  const dtypes = new Set(values.map((v) => v.dtype));
  if (BITWISE.has(node.opType))
    return `no ${node.opType} kernel in the WebGPU provider (the RNG's uint32 hash)`;
  if (dtypes.has('uint32')) return 'uint32 bits of the RNG, computed next to its CPU-only hash';
  if (dtypes.has('float64'))
    return 'float64 scalar: WebGPU has no 64-bit floats (AdamW bias correction from lr, step)';
  if (dtypes.has('int64'))
    return 'int64: WebGPU has no 64-bit integers (category ids, shapes, BatchNorm step counter)';
  if (dtypes.has('string')) return 'string: WebGPU has no strings';
  const scalarCopy = node.opType === 'Identity' && values.every((v) => v.shape?.length === 0);
  if (scalarCopy) return 'the copy that names a scalar graph output (4 bytes; ORT prefers the CPU for it)';
  const fromCpu = node.inputs.some((v) => v?.producer && cpuNodes.has(v.producer.name));
  if (dtypes.has('bool') && fromCpu) return 'bool RNG mask reshaped where the CPU-side RNG made it';
  return null;
}

/** The builder node a placement name refers to (ORT appends `/<Fusion>` to nodes it fuses). */
export function findNode(b: Builder, name: string): Node | undefined {
  return b.nodes.find((n) => n.name === name) ?? b.nodes.find((n) => name.startsWith(`${n.name}/`));
}
