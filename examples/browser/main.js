// Using ocsf-embed in a browser: fetch the default model's files, generate a few hundred OCSF events,
// score them with onnxruntime-web and show the most anomalous. `node build.mjs` bundles this file with
// esbuild into dist/ beside the model and the onnxruntime-web wasm files; serve dist/ and open it.
import { generate, openRun } from 'ocsf-embed';
import { env } from 'onnxruntime-web';

// onnxruntime-web loads its .wasm from here (build.mjs copies it beside the bundle).
env.wasm.wasmPaths = new URL('./', import.meta.url).href;

/** @param {string} name */
async function fetchBytes(name) {
  const response = await fetch(new URL(`./model/${name}`, import.meta.url));
  if (!response.ok) throw new Error(`GET model/${name}: ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function main() {
  const status = /** @type {HTMLElement} */ (document.getElementById('status'));
  const table = /** @type {HTMLTableElement} */ (document.getElementById('top'));
  const model = await openRun({
    model: await fetchBytes('model.onnx'),
    reference: await fetchBytes('reference.safetensors'),
    scorer: await fetchBytes('scorer.json'),
    reconstruction: await fetchBytes('reconstruction.onnx'),
  });
  const { events } = generate({ events: 300, seed: 7, start: '2026-01-06T00:00:00Z' });
  const scored = await model.score(events);
  await model.release();
  const order = [...scored.scores.keys()].sort((a, b) => scored.scores[b] - scored.scores[a]);
  table.innerHTML = '<tr><th>event</th><th>score</th><th>nearest training event</th></tr>';
  for (const i of order.slice(0, 10)) {
    const row = table.insertRow();
    for (const text of [scored.uids[i], scored.scores[i].toFixed(3), scored.nearest[i][0] ?? '']) {
      row.insertCell().textContent = text;
    }
  }
  const flagged = scored.isAnomaly.reduce((n, x) => n + x, 0);
  status.textContent = `Scored ${scored.scores.length} events: ${flagged} above the threshold (${scored.threshold.toFixed(3)}).`;
  Object.assign(globalThis, {
    exampleResult: {
      events: scored.scores.length,
      dimension: model.dimension,
      scores: Array.from(scored.scores),
    },
  });
  document.body.dataset.state = 'done';
}

main().catch((e) => {
  const status = document.getElementById('status');
  if (status) status.textContent = `Failed: ${e instanceof Error ? e.message : String(e)}`;
  document.body.dataset.state = 'error';
});
