// Renders docs/benchmarks.md from the results: every figure comes from the run's JSON.
import type { BenchResults, SectionName } from './results.ts';
import { SECTIONS } from './results.ts';
import { formatKnnSteps } from './scoring.ts';
import { runtimeLabel, type TrainRuntime } from './train.ts';

function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function num(x: number | null | undefined, digits = 0): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function pct(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(0)}%`;
}

function ratio(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : `${x.toFixed(2)}×`;
}

function runtimeName(runtime: string, threads: number): string {
  return runtimeLabel({ runtime: runtime as TrainRuntime, threads });
}

function sectionNote(r: BenchResults, s: SectionName): string {
  const st = r.status[s] ?? { status: 'skipped', reason: 'not in these results' };
  if (st.status === 'ok') return '';
  if (st.status === 'skipped')
    return `\n_${st.reason?.startsWith('skipped') ? st.reason : `skipped: ${st.reason}`}_\n`;
  const errors = (st.errors ?? []).map((e) => `- ${e.job}: ${e.error.split('\n')[0]}`).join('\n');
  return `\n**${st.status}**${st.reason ? `: ${st.reason}` : ''}\n\n${errors}\n`;
}

function absent(r: BenchResults, s: SectionName, title: string, hasData: boolean): string | null {
  if (hasData) return null;
  return `## ${title}\n${sectionNote(r, s) || '\n_no results_\n'}`;
}

function header(r: BenchResults): string {
  const m = r.meta;
  const rows: [string, string][] = [
    ['command', `\`${m.command}\``],
    ['date', m.date],
    ['mode', m.quick ? 'quick (tiny sizes, not a measurement)' : 'full'],
    ['sections', m.only ? m.only.join(', ') : 'all'],
    ['Node.js', m.node],
    ['onnxruntime-node', m.onnxruntimeNode],
    ['onnxruntime-web', m.onnxruntimeWeb],
    [
      'CPU',
      `${m.cpuModel} (AVX2 ${m.cpuFlags.avx2 ? 'yes' : 'no'}, AVX-512F ${m.cpuFlags.avx512f ? 'yes' : 'no'})`,
    ],
    ['cores', String(m.cores)],
    ['memory', `${m.memoryGiB.toFixed(1)} GiB`],
    ['load average before (1, 5, 15 min)', m.loadavgBefore.map((x) => x.toFixed(2)).join(', ')],
    ['load average after (1, 5, 15 min)', m.loadavgAfter.map((x) => x.toFixed(2)).join(', ')],
    ['PyTorch', torchLine(r)],
    ['BLAS environment', blasEnvLine(r)],
    ['wall time', `${m.wallSeconds.toFixed(0)} s`],
  ];
  return table(
    ['', ''],
    rows.map(([k, v]) => [k, v]),
  );
}

function torchLine(r: BenchResults): string {
  const m = r.meta;
  if (!m.torch) return r.status.reference.reason ?? 'not run';
  const blas = r.reference.blas;
  const libs = (blas?.libraries ?? []).map((l) => `\`${l}\``).join(', ');
  const which =
    !blas || blas.kind === 'unknown'
      ? `an unidentified BLAS (the probe could not tell which${libs ? `; mapped: ${libs}` : ': no BLAS library was mapped'})`
      : `${blas.name} (${libs})`;
  return `${m.torch}, GEMMs on ${which}; /usr/bin/python3, OPENBLAS_NUM_THREADS set per run`;
}

function blasEnvLine(r: BenchResults): string {
  const env = r.meta.env;
  if (!env) return 'not recorded';
  const vars = Object.entries(env).map(([k, v]) => `\`${k}=${v}\``);
  if (vars.length === 0) return 'no OPENBLAS_*, OMP_* or MKL_* variables set';
  const note = env.OPENBLAS_CORETYPE
    ? `; set by the environment and left as they are: OpenBLAS (PyTorch's GEMMs) uses its ${env.OPENBLAS_CORETYPE} kernels` +
      `${r.meta.cpuFlags.avx512f ? ' although this CPU has AVX-512F' : ''}; ONNX Runtime (MLAS) does not read them`
    : '; set by the environment and left as they are; ONNX Runtime (MLAS) does not read them';
  return `${vars.join(', ')}${note}`;
}

function targetsSection(r: BenchResults): string {
  const rows = r.targets.map((t) => [
    t.name,
    t.met === null ? 'not measured' : t.met ? 'met' : 'missed',
    t.detail,
  ]);
  const next = r.proposals.length
    ? `\n\n### Where the time goes and what to do next\n\n${r.proposals.map((p) => `- ${p}`).join('\n')}`
    : '';
  return `## Targets (reported, not asserted)\n\n${table(['target', 'result', 'measured'], rows)}${next}\n`;
}

function configsSection(r: BenchResults): string {
  const rows = r.configs.map((c) => {
    const params = r.train.find((t) => t.config === c.name)?.params;
    return [
      c.name,
      c.dModel,
      c.numBlocks,
      c.batch,
      num(params),
      num(c.forwardMacsPerRow),
      num(c.trainFlopsPerSample.model / 1e6, 2),
      num(c.trainFlopsPerSample.total / 1e6, 2),
    ];
  });
  return (
    '## Configurations and FLOP model\n\n' +
    'Inputs: 50 standard-normal numericals, 4 uniform categorical columns with cardinalities [100, 50, 200, 1000]; ' +
    'contrastive objective (two views, NT-Xent), dropout 0.1, AdamW, lr 1e-3. FLOPs count GEMMs only: ' +
    "2 views × 3 (forward + backward) × 2·MACs per row, plus the 2B × 2B similarity matmul (the reference's " +
    '`train_flops_per_sample`).\n\n' +
    table(
      [
        'config',
        'dModel',
        'blocks',
        'batch',
        'params',
        'forward MACs/row',
        'train MFLOP/sample (model)',
        'train MFLOP/sample (+ similarity)',
      ],
      rows,
    )
  );
}

function trainSection(r: BenchResults): string {
  const none = absent(r, 'train', 'Training throughput', r.train.length > 0);
  if (none) return none;
  const rows = r.train.map((t) => [
    t.config,
    runtimeName(t.runtime, t.threads),
    num(t.stepMsMedian, 1),
    `${num(t.stepMsMin, 1)}–${num(t.stepMsMax, 1)}`,
    num(t.samplesPerSecond),
    num(t.gflops, 1),
    pct(t.fractionOfPeak),
    ratio(t.vsTorchStep),
    t.vsTorchRounds?.map((x) => ratio(x)).join(', ') ?? '–',
    ratio(t.vsTorchEpoch),
    num(t.peakRssMiB),
    num(t.sessionMs),
    num(t.load1AtStart, 2),
  ]);
  const first = r.train[0];
  const plan = first
    ? `Median over ${first.repetitions} repetitions of ${first.stepsPerRepetition} steps after ${first.warmupSteps} warm-up steps, ` +
      `${r.meta.quick ? 'all jobs in one process (quick mode)' : 'each configuration in its own process'}; session creation is not timed. `
    : '';
  return (
    `## Training throughput\n${sectionNote(r, 'train')}\n` +
    plan +
    "“% of ceiling” divides the achieved GFLOP/s by ONNX Runtime's own best MatMul GFLOP/s at the same thread count; " +
    "“vs PyTorch” divides our samples/s by the reference's per-step samples/s (batch / median step time) and by its " +
    'epoch samples/s (data loading included), both from the same run. ' +
    (r.train.some((t) => t.roundStepMs)
      ? `onnxruntime-node's rows ran in ${r.train.find((t) => t.roundStepMs)!.roundStepMs!.length} rounds alternating with ` +
        "the reference's (ours, PyTorch, ours, …): each shows its median round, and “by round” each round's ratio. "
      : '') +
    "The wasm rows run onnxruntime-web's multi-threaded SIMD build in Node (worker threads) and in headless " +
    'Chromium on a cross-origin isolated page (COOP/COEP, as `npm run web` serves it).\n\n' +
    table(
      [
        'config',
        'runtime',
        'ms/step',
        'range',
        'samples/s',
        'GFLOP/s',
        '% of ceiling',
        'vs PyTorch (step)',
        'vs PyTorch by round',
        'vs PyTorch (epoch)',
        'peak RSS MiB',
        'session ms',
        'load at start',
      ],
      rows,
    ) +
    '\n'
  );
}

function matmulSection(r: BenchResults): string {
  const none = absent(r, 'matmul', 'Matmul ceiling (fp32)', r.matmul.results.length > 0);
  if (none) return none;
  const shapes = new Map<string, { label: string; byThreads: Record<string, string> }>();
  for (const m of r.matmul.results) {
    const key = `${m.m}x${m.k}x${m.n}x${m.constantB}`;
    const label = `${m.m}×${m.k} · ${m.k}×${m.n}${m.constantB ? ' (B constant, pre-packed)' : ''}`;
    const e = shapes.get(key) ?? { label, byThreads: {} };
    e.byThreads[String(m.threads)] = `${num(m.bestGflops, 1)} (median ${num(m.medianGflops, 1)})`;
    shapes.set(key, e);
  }
  const rows = [...shapes.values()].map((e) => [e.label, e.byThreads['1'] ?? '–', e.byThreads['2'] ?? '–']);
  const p = r.matmul.peakGflops;
  const t = r.reference.matmulPeakGflops;
  return (
    `## Matmul ceiling (fp32)\n${sectionNote(r, 'matmul')}\n` +
    'One ONNX MatMul graph per shape on onnxruntime-node (MLAS), best of repeated runs after warm-up, GFLOP/s. ' +
    "The last rows are the training step's own GEMM shapes (two views stacked: 512 rows).\n\n" +
    table(['shape', '1 thread', '2 threads'], rows) +
    '\n\n' +
    table(
      ['ceiling', '1 thread', '2 threads'],
      [
        ['ONNX Runtime MatMul (best shape)', num(p['1'], 1), num(p['2'], 1)],
        ['PyTorch torch.matmul, square (bench_matmul.py, BLAS threads)', num(t['1'], 1), num(t['2'], 1)],
      ],
    ) +
    '\n'
  );
}

function profileSection(r: BenchResults): string {
  const all = r.profile;
  const detailed = all.find((p) => p.config === 'base') ?? all[0];
  const profs = all.filter((p) => p.config === detailed?.config).sort((a, b) => a.threads - b.threads);
  const none = absent(r, 'profile', 'Where the time goes (profile)', profs.length > 0);
  if (none) return none;
  const order = ['small', 'base', 'large'];
  const perConfig = table(
    [
      'config',
      'threads',
      'nodes/step',
      'kernel ms/step',
      'GEMM ms/step',
      'GEMM share of kernel time',
      'GEMM GFLOP/s',
      '% of MatMul ceiling',
    ],
    [...all]
      .sort((a, b) => order.indexOf(a.config) - order.indexOf(b.config) || a.threads - b.threads)
      .map((p) => {
        const gemm = p.summary.byCategory.find((x) => x.name.startsWith('GEMM'));
        const ceiling = r.matmul.peakGflops[String(p.threads)] ?? null;
        return [
          p.config,
          `×${p.threads}`,
          num(p.summary.nodesPerStep),
          num(p.summary.kernelMsPerStep, 2),
          num(gemm?.msPerStep, 2),
          pct(gemm?.share),
          num(gemm?.gflops, 0),
          ceiling && gemm?.gflops ? pct(gemm.gflops / ceiling) : '–',
        ];
      }),
  );
  const cols = profs.map((p) => `×${p.threads}`);
  const totals = table(
    ['per profiled step (ms)', ...cols],
    [
      ['wall clock around session.run', ...profs.map((p) => num(p.summary.wallMsPerStep, 2))],
      ['ONNX Runtime model_run', ...profs.map((p) => num(p.summary.runMsPerStep, 2))],
      ['sum of kernel times', ...profs.map((p) => num(p.summary.kernelMsPerStep, 2))],
      [
        'framework overhead in ORT (model_run − kernels)',
        ...profs.map((p) => num(p.summary.overheadMsPerStep, 2)),
      ],
      [
        'outside ORT (wall − model_run: binding, JS)',
        ...profs.map((p) => num(p.summary.outsideRunMsPerStep, 2)),
      ],
      ['nodes executed', ...profs.map((p) => num(p.summary.nodesPerStep))],
      [
        'unprofiled step (training section, median)',
        ...profs.map((p) =>
          num(
            r.train.find((t) => t.config === p.config && t.runtime === 'node' && t.threads === p.threads)
              ?.stepMsMedian,
            2,
          ),
        ),
      ],
    ],
  );
  const catNames = [...new Set(profs.flatMap((p) => p.summary.byCategory.map((x) => x.name)))];
  const categories = table(
    [
      'kind of kernel',
      'nodes/step',
      ...profs.flatMap((p) => [`ms/step ×${p.threads}`, `share ×${p.threads}`]),
    ],
    catNames.map((name) => [
      name,
      num(profs[0]!.summary.byCategory.find((x) => x.name === name)?.nodesPerStep),
      ...profs.flatMap((p) => {
        const row = p.summary.byCategory.find((x) => x.name === name);
        return [num(row?.msPerStep, 2), pct(row?.share)];
      }),
    ]),
  );
  const phaseNames = [...new Set(profs.flatMap((p) => p.summary.byPhase.map((x) => x.name)))];
  const phases = table(
    ['phase', ...profs.flatMap((p) => [`ms ×${p.threads}`, `share ×${p.threads}`]), 'nodes'],
    phaseNames.map((name) => [
      name,
      ...profs.flatMap((p) => {
        const row = p.summary.byPhase.find((x) => x.name === name);
        return [num(row?.msPerStep, 2), pct(row?.share)];
      }),
      num(profs[0]!.summary.byPhase.find((x) => x.name === name)?.nodesPerStep),
    ]),
  );
  const opNames = profs[0]!.summary.byOpType.map((x) => x.name);
  const ops = table(
    [
      'op type',
      'nodes/step',
      ...profs.flatMap((p) => [`ms/step ×${p.threads}`, `share ×${p.threads}`]),
      'GEMM GFLOP/s ×1',
    ],
    opNames.map((name) => {
      const first = profs[0]!.summary.byOpType.find((x) => x.name === name);
      return [
        name,
        num(first?.nodesPerStep),
        ...profs.flatMap((p) => {
          const row = p.summary.byOpType.find((x) => x.name === name);
          return [num(row?.msPerStep, 2), pct(row?.share)];
        }),
        first?.gflops !== undefined ? num(first.gflops, 0) : '',
      ];
    }),
  );
  const g = profs[0]!.summary.gemmShapes.slice(0, 12);
  const gemm = table(
    ['op', 'phase', 'shapes (A · B → Y)', 'nodes/step', 'ms/step', 'GFLOP/s'],
    g.map((x) => [x.op, x.phase, x.shape, num(x.nodesPerStep), num(x.msPerStep, 2), num(x.gflops, 0)]),
  );
  const c = profs[0]!;
  return (
    `## Where the time goes: ONNX Runtime profiles\n${sectionNote(r, 'profile')}\n` +
    `onnxruntime-node with \`enableProfiling\`, ${c.summary.steps} steps after warm-up, at ${cols.join(' and ')} ` +
    'intra-op threads. Profiling itself slows each node down, so the totals are above the unprofiled step times; ' +
    'the shares are what to read.\n\n' +
    "GEMM kernels per config (profiled; the ceiling is ONNX Runtime's best MatMul at the same thread count):\n\n" +
    `${perConfig}\n\nThe ${c.config} config in detail:\n\n${totals}\n\n${categories}\n\n${phases}\n\n${ops}\n\nGEMM kernels by shape, most time first (×${c.threads}):\n\n${gemm}\n`
  );
}

function inferenceSection(r: BenchResults): string {
  const none = absent(r, 'inference', 'Inference', r.inference.results.length > 0);
  if (none) return none;
  const torch = r.reference.train.find((t) => t.config === 'base');
  const rows = r.inference.results.map((x) => [
    x.case,
    runtimeName(x.runtime, x.threads),
    x.batch,
    num(x.msPerBatchMedian, 3),
    num(x.embeddingsPerSecond),
    x.runs,
  ]);
  const cases = r.inference.cases.map((c) => `- \`${c.name}\`: ${c.description}`).join('\n');
  const torchLine = torch
    ? `\n\nPyTorch (same run, base config, eval, no_grad): ${num(torch.inferRowsPerSecond)} embeddings/s at batch ${torch.inferBatch}; ` +
      `${num(torch.inferBatch1LatencyMs, 3)} ms per row at batch 1 (${num(1000 / torch.inferBatch1LatencyMs)} embeddings/s).`
    : '';
  const notes = r.inference.cases.flatMap((c) => {
    const note = r.inference.results.find((x) => x.case === c.name && x.note)?.note;
    return note ? [`- \`${c.name}\` as built in this run: ${note}`] : [];
  });
  return (
    `## Inference\n${sectionNote(r, 'inference')}\n${cases}\n${notes.length ? `\n${notes.join('\n')}\n` : ''}\n` +
    'Median ms per call after warm-up: `session.run` for `encoder`, `Embedder.embed` / `Embedder.embedRaw` for the ' +
    'model.onnx cases (session creation not timed).\n\n' +
    table(['case', 'runtime', 'batch', 'ms/batch', 'embeddings/s', 'runs'], rows) +
    torchLine +
    '\n'
  );
}

function ingestSection(r: BenchResults): string {
  const none = absent(r, 'ingest', 'Ingest', r.ingest.length > 0);
  if (none) return none;
  const rows = r.ingest.flatMap((i) =>
    i.result.formats.map((f) => [
      f.format,
      num(f.events),
      num(f.fileBytes / 1048576, 1),
      num(f.readEventsPerSecond),
      num(f.ingestEventsPerSecond),
      num(f.rejected),
      `${i.result.numNumerical} + ${i.result.numCategorical}`,
      num(f.ingestRssMiB),
      num(i.childPeakRssMiB),
    ]),
  );
  return (
    `## Ingest\n${sectionNote(r, 'ingest')}\n` +
    'Generated OCSF events read, parsed and checked (read), then also encoded with a fitted feature spec (read + encode); ' +
    'one process per format (`benchIngest` from scripts/bench/ingest.ts); the largest RSS sampled while ingesting, and the peak RSS of that process with event generation included.\n\n' +
    table(
      [
        'format',
        'events',
        'file MiB',
        'read events/s',
        'read + encode events/s',
        'rejected',
        'numerical + categorical inputs',
        'RSS while ingesting MiB',
        'peak RSS MiB',
      ],
      rows,
    ) +
    '\n'
  );
}

function scoringSection(r: BenchResults): string {
  const sc = r.scoring;
  if (!sc) return absent(r, 'scoring', 'Scoring', false)!;
  const rows = sc.rows.map((x) => [
    num(x.threads),
    num(x.embed.eventsPerSecond),
    num(x.score.eventsPerSecond),
    num(x.ratio, 2),
    num(x.embed.cpuSeconds, 1),
    num(x.score.cpuSeconds, 1),
    `${num(x.embed.load1, 1)} / ${num(x.score.load1, 1)}`,
  ]);
  const k = sc.knn;
  return (
    `## Scoring\n${sectionNote(r, 'scoring')}\n` +
    `\`ocsf-embed embed\` and \`ocsf-embed score\` as whole commands (process start to exit, JSONL in and out, \`--device cpu\`) on the same ${num(sc.events)} generated events against ${sc.run} ` +
    `(${num(k.referenceRows)} reference rows of width ${k.dimension}, the default scorer searching k up to ${k.k}); CPU seconds are the command's own (all threads), beside the load average when each started (\`benchScoring\` from scripts/bench/scoring.ts). Target: score ≥ 0.5 × embed events/s.\n\n` +
    table(
      [
        'threads',
        'embed events/s',
        'score events/s',
        'score ÷ embed',
        'embed CPU s',
        'score CPU s',
        'load (1 min) embed / score',
      ],
      rows,
    ) +
    `\n\nThe k-NN searches per query on the run's reference as scoring runs them, CPU µs on one thread: ${formatKnnSteps(k)}.\n`
  );
}

function memorySection(r: BenchResults): string {
  const m = r.memory;
  if (!m) return absent(r, 'memory', 'Memory', false)!;
  const rows: (string | number)[][] = [
    ['encoded dataset in typed arrays', num(m.datasetMiB)],
    ['RSS after building the dataset', num(m.rssAfterDataMiB)],
    ['RSS after building the step and its session', num(m.rssAfterSessionMiB)],
    ...m.rssAtStep.map((s) => [`RSS after step ${s.step}`, num(s.rssMiB)]),
    [`growth from step ${m.growthFrom} to ${m.rssAtStep[m.rssAtStep.length - 1]?.step}`, num(m.growthMiB, 1)],
    ['peak RSS (VmHWM)', num(m.peakRssMiB)],
    ['peak RSS (process.resourceUsage().maxRSS)', num(m.maxRssMiB)],
  ];
  return (
    `## Memory\n${sectionNote(r, 'memory')}\n` +
    `Training the ${m.config} config (onnxruntime-node ×1) for ${num(m.steps)} shuffled batches over ${num(m.rows)} random ` +
    `encoded rows held in typed arrays, in its own process (${num(m.msPerStep, 1)} ms/step including batch assembly).\n\n` +
    table(['', 'MiB'], rows) +
    '\n'
  );
}

function trainerSection(r: BenchResults): string {
  const rows = [...(r.trainer ?? [])].sort((a, b) => a.threads - b.threads);
  const none = absent(r, 'trainer', 'Trainer against the raw step', rows.length > 0);
  if (none) return none;
  const first = rows[0]!;
  const table1 = table(
    [
      'runtime',
      'raw step ms (median)',
      'raw samples/s',
      'Trainer.fit ms/step (median)',
      'Trainer.fit samples/s (median)',
      'each fit samples/s',
      'Trainer / raw',
      'Trainer − raw ms/step',
      'raw repetitions ms/step',
    ],
    rows.map((t) => [
      runtimeName('node', t.threads),
      num(t.rawStepMsMedian, 1),
      num(t.rawSamplesPerSecond),
      num(t.trainerStepMs, 1),
      num(t.trainerSamplesPerSecond),
      (t.fitSamplesPerSecond ?? [t.trainerSamplesPerSecond]).map((x) => num(x)).join(', '),
      ratio(t.ratio),
      num(t.overheadMsPerStep, 1),
      t.rawRepetitionStepMs.map((x) => num(x, 1)).join(', '),
    ]),
  );
  return (
    `## Trainer against the raw step\n${sectionNote(r, 'trainer')}\n` +
    `The ${first.config} (demo) config (dModel ${first.dModel}, ${first.numBlocks} blocks, batch ${first.batch}, reference ` +
    `objective) trained through \`Trainer.fit\` (src/train/trainer.ts: shuffled batches gathered from an \`EncodedDataset\` ` +
    `of ${num(first.rows)} random rows, category ids converted to int64, LR schedule; \`FitResult.samplesPerSecond\` of one ` +
    `epoch of ${first.trainerSteps} steps, each on a fresh Trainer after ${first.trainerWarmupSteps} untimed \`trainStep\` ` +
    'calls) against the raw fused step of the training section (pre-built feeds, no data handling), on the same runtime ' +
    `and thread count in the same process. ${first.rounds ?? 1} fit${(first.rounds ?? 1) === 1 ? '' : 's'} alternate with ` +
    `${(first.rounds ?? 1) + 1} raw timings ` +
    '(raw, fit, raw, …, raw) so that drift in the machine hits both; the median fit is compared with the median raw ' +
    'repetition. Target: the Trainer within 10% of the raw step.\n\n' +
    table1 +
    '\n'
  );
}

function serveSection(r: BenchResults): string {
  const s = r.serve;
  if (!s) return absent(r, 'serve', 'Service (/score)', false)!;
  const l = s.latencyMs;
  const rows: (string | number)[][] = [
    [
      'timed requests / clients',
      `${num(s.requests)} / ${s.concurrency} (after ${num(s.warmup)} untimed warm-up requests)`,
    ],
    [
      'latency p50 / p90 / p99 / max ms',
      `${num(l.p50, 1)} / ${num(l.p90, 1)} / ${num(l.p99, 1)} / ${num(l.max, 1)}`,
    ],
    ['mean latency ms', num(l.mean, 1)],
    [
      'in the service (histogram bucket bounds) p50 / p99 ms',
      s.serverLatencyMs ? `≤ ${s.serverLatencyMs.p50} / ≤ ${s.serverLatencyMs.p99}` : '–',
    ],
    ['requests/s', num(s.requestsPerSecond)],
    ['errors', num(s.errors)],
    ['events per model call (micro-batching)', num(s.meanModelBatch, 1)],
    ['scoring worker threads', s.scoreWorkers ? num(s.scoreWorkers) : '–'],
    [
      'CPU while timed, in cores: load generator / service',
      s.cpuCores ? `${num(s.cpuCores.loadGenerator, 2)} / ${num(s.cpuCores.service, 2)}` : '–',
    ],
    ['load average (1 min) at the start', s.load1 === undefined ? '–' : num(s.load1, 1)],
    ['target p99 < 50 ms', s.metTarget ? 'met' : 'missed'],
  ];
  return (
    `## Service (/score)\n${sectionNote(r, 'serve')}\n` +
    `\`benchServe\` (scripts/bench/serve.ts) against \`ocsf-embed serve\` on 127.0.0.1 in a child process, over a run trained ` +
    `here on ${num(s.trainEvents)} generated events (dModel ${s.modelConfig.dModel}, ${s.modelConfig.numBlocks} blocks, one ` +
    `epoch; ${num(s.referenceEvents)} reference events for the scorer, embedding width ${num(s.dimension)}; generating, training ` +
    `and finishing it took ${num(s.trainSeconds, 1)} s). Single-event POST /score requests from ${s.concurrency} concurrent ` +
    `keep-alive clients on the same ${s.cores}-core host, micro-batching ${s.microBatch ? 'on' : 'off'}.\n\n` +
    table(['', ''], rows) +
    '\n'
  );
}

function streamSection(r: BenchResults): string {
  const s = r.stream;
  if (!s) return absent(r, 'stream', 'Stream (NATS JetStream consume)', false)!;
  const l = s.latency;
  const rows: (string | number)[][] = [
    ...s.throughput.map((t) => [
      `events/s, ${t.workers} worker${t.workers === 1 ? '' : 's'}`,
      `${num(t.eventsPerSecond)} (${num(t.events)} events in ${num(t.seconds, 1)} s)`,
    ]),
    ...s.throughput.map((t) => [
      `events per worker CPU second, ${t.workers} worker${t.workers === 1 ? '' : 's'}`,
      t.eventsPerCpuSecond ? `${num(t.eventsPerCpuSecond)} (${num(t.workerCpuSeconds ?? 0, 1)} CPU s)` : '–',
    ]),
    [
      'publish → finding p50 / p90 / p99 / max ms',
      `${num(l.p50Ms, 1)} / ${num(l.p90Ms, 1)} / ${num(l.p99Ms, 1)} / ${num(l.maxMs, 1)}`,
    ],
    [
      'latency samples (findings) / events at rate',
      `${num(l.samples)} / ${num(l.events)} at ${num(l.publishRate)} events/s`,
    ],
  ];
  const p = s.plan;
  return (
    `## Stream (NATS JetStream consume)\n${sectionNote(r, 'stream')}\n` +
    (s.measured
      ? `Measured on its own by \`${s.measured.command}\` (${s.measured.date}) and merged into these results. `
      : '') +
    `\`benchStream\` (scripts/bench/stream.ts): nats-server ${s.natsServer} with JetStream on 127.0.0.1 and \`ocsf-embed consume\` ` +
    `worker processes (one durable consumer, --batch-size ${p.batchSize}, --max-in-flight ${p.maxInFlight}, one intra-op thread each, ` +
    `score rows to JSON-lines files, findings to a JetStream subject) over a run trained here on ${num(p.trainEvents)} ` +
    `generated events (dModel ${s.modelConfig.dModel}, ${s.modelConfig.numBlocks} blocks, one epoch; ${num(s.trainSeconds, 1)} s) on the same ` +
    `${s.cores}-core host (load average ${num(s.load1AtStart, 1)} at the start). Throughput: the workers are started and ready, then ` +
    `${num(p.events)} events are published and timed to the last acknowledgement (publishing included). Latency: one worker, ` +
    `${num(l.events)} events published at ${num(p.latencyLoad * 100)}% of the one-worker rate, from each publish to its finding arriving ` +
    'on the findings subject (flagged events only). Events per worker CPU second (user + system time of the worker processes over the timed span, ' +
    'from /proc) is what a worker does with a core to itself; on a shared host the events/s rows are what the ' +
    'workers got.\n\n' +
    table(['', ''], rows) +
    '\n'
  );
}

function startSection(r: BenchResults): string {
  const st = r.start;
  if (!st) return absent(r, 'start', 'npm start end to end', false)!;
  const rows: (string | number)[][] = [
    ['wall time (child process, start to exit)', `${num(st.wallSeconds, 1)} s`],
    ["the script's own total time", st.scriptSeconds === null ? '–' : `${num(st.scriptSeconds)} s`],
    ['training events', num(st.trainingEvents)],
    ['training', `${num(st.steps)} steps, ${num(st.samplesPerSecond)} samples/s, ${st.stopReason ?? '–'}`],
    ['detection on', st.detectionOn ?? '–'],
    [
      'ROC-AUC / PR-AUC',
      `${num(st.rocAuc, 3)} / ${num(st.prAuc, 3)} (anomaly rate ${num(st.anomalyRate, 3)})`,
    ],
    [
      'at the threshold',
      `precision ${num(st.precision, 3)}, recall ${num(st.recall, 3)}, ${num(st.flagged)} flagged`,
    ],
    ['peak RSS (VmHWM, polled)', st.peakRssMiB === null ? '–' : `${num(st.peakRssMiB)} MiB`],
  ];
  const summary = st.summaryLines.length
    ? `\n\nIts summary:\n\n${st.summaryLines.map((l) => `    ${l}`).join('\n')}`
    : '';
  return (
    `## npm start end to end\n${sectionNote(r, 'start')}\n` +
    "`npm start`'s script (scripts/generate-and-train.ts: generate a day of events, train, export, fit the scorer, " +
    `score the next day) run as \`${st.command}\` in its own process, after the other sections.\n\n` +
    table(['', ''], rows) +
    summary +
    '\n'
  );
}

function packageSection(r: BenchResults): string {
  const p = r.package;
  if (!p) return absent(r, 'package', 'The installed package', false)!;
  const rows: (string | number)[][] = [
    ['`node -e 0`', `${num(p.medianMs.node)} ms`, '1.00×'],
    ['installed `ocsf-embed --version`', `${num(p.medianMs.version)} ms`, `${num(p.versionOverNode, 2)}×`],
    [
      'installed `ocsf-embed --help`',
      `${num(p.medianMs.help)} ms`,
      `${num(p.medianMs.help / p.medianMs.node, 2)}×`,
    ],
    [
      'checkout `node bin/ocsf-embed.js --version` (tsx)',
      `${num(p.medianMs.checkoutVersion)} ms`,
      `${num(p.medianMs.checkoutVersion / p.medianMs.node, 2)}×`,
    ],
  ];
  return (
    `## The installed package\n${sectionNote(r, 'package')}\n` +
    `\`npm pack\` (${num(p.tarballBytes / 1024)} KiB, ${num(p.files)} files) installed into a fresh project from the ` +
    `local npm cache (build, pack and install: ${num(p.installSeconds, 1)} s); then, over ${p.rounds} alternating ` +
    'rounds, the median wall time of each command from process start to exit.\n\n' +
    table(['command', 'median', 'over `node -e 0`'], rows) +
    '\n'
  );
}

function referenceSection(r: BenchResults): string {
  const none = absent(r, 'reference', 'PyTorch reference (same run)', r.reference.torch !== null);
  if (none) return none;
  const rows = r.reference.train.map((t) => [
    t.config,
    num(t.params),
    num(t.stepMs, 1),
    num(t.samplesPerSecondStep),
    num(t.samplesPerSecondEpoch),
    num(t.gflops, 1),
    num(t.inferRowsPerSecond),
    num(t.inferBatch1LatencyMs, 3),
    num(t.peakRssMiB),
    num(t.maxOtherCpuLoad, 2),
  ]);
  const cmds = r.reference.commands.map((c) => `    ${c}`).join('\n');
  return (
    `## PyTorch reference (same run)\n${sectionNote(r, 'reference')}\n` +
    (r.reference.torch
      ? `torch ${r.reference.torch}, GEMMs through ${r.reference.blas?.name ?? 'an unknown BLAS'} ` +
        `(${(r.reference.blas?.libraries ?? []).map((l) => `\`${l}\``).join(', ')}); each config in its own process, ` +
        `step time = median over its measured epochs' steps. Commands:\n\n${cmds}\n\n` +
        table(
          [
            'config',
            'params',
            'ms/step',
            'samples/s (step)',
            'samples/s (epoch)',
            'GFLOP/s',
            'inference rows/s (batch 1024)',
            'batch-1 latency ms',
            'peak RSS MiB',
            'other CPU load',
          ],
          rows,
        ) +
        '\n'
      : '')
  );
}

/** The Markdown report of a run. */
export function renderReport(r: BenchResults): string {
  const statusOf = (s: (typeof SECTIONS)[number]) =>
    r.status[s] ?? { status: 'skipped', reason: 'not in these results' };
  const skipped = SECTIONS.filter((s) => statusOf(s).status !== 'ok').map(
    (s) => `- ${s}: ${statusOf(s).status}${statusOf(s).reason ? ` (${statusOf(s).reason})` : ''}`,
  );
  return [
    '# Benchmarks',
    '',
    `Generated by \`${r.meta.command}\` (scripts/bench/run.ts); every figure below comes from that run ` +
      '(raw results: bench-results.json beside this file). Re-run it to refresh; do not edit by hand.',
    '',
    'Usage: `npm run bench` runs everything and writes docs/benchmarks.md and docs/bench-results.json; ' +
      `\`npm run bench -- --only ${SECTIONS.join(',')}\` runs some sections and ` +
      '`npm run bench -- --quick` runs tiny sizes in seconds (CI); both write to a temporary folder unless ' +
      '`--out DIR` is given; `npm run bench -- --render docs/bench-results.json` rebuilds this page from the raw ' +
      'results without measuring. `--rounds N` sets how many rounds onnxruntime-node training alternates with the ' +
      'PyTorch reference (default 3); `REFERENCE_DIR` points at the reference scripts when they are not in ' +
      '../shared/reference.',
    '',
    header(r),
    '',
    ...(skipped.length ? ['Sections not fully measured:', '', ...skipped, ''] : []),
    targetsSection(r),
    configsSection(r),
    '',
    trainSection(r),
    trainerSection(r),
    matmulSection(r),
    profileSection(r),
    inferenceSection(r),
    ingestSection(r),
    scoringSection(r),
    memorySection(r),
    serveSection(r),
    streamSection(r),
    startSection(r),
    packageSection(r),
    referenceSection(r),
  ].join('\n');
}
