// VramFit page: binds the form to the query string, asks /api/estimate and /api/curve, draws SVG.
'use strict';
const $ = (id) => document.getElementById(id);
const fields = ['model', 'gpu', 'gpus', 'nodes', 'engine', 'context', 'batch', 'quant', 'kv', 'attention'];
const colors = { Weights: '#4c78a8', KvCache: '#f58518', RecurrentState: '#e45756', Activations: '#54a24b', Output: '#b279a2', Overhead: '#9d9da0' };
const labels = { Weights: 'weights', KvCache: 'KV cache', RecurrentState: 'recurrent state', Activations: 'activations', Output: 'output', Overhead: 'overhead' };
let uploadedConfig = null;   // config.json text, or the head of a .gguf file (ArrayBuffer)
let uploadedSize = 0;
let seq = 0;

function size(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Math.abs(bytes), i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (bytes < 0 ? '-' : '') + (i === 0 ? v : v.toFixed(2)) + ' ' + units[i];
}

function query() {
  const p = new URLSearchParams();
  for (const f of fields) {
    const el = $(f);
    if (el.value !== '') p.set(el.name, el.value);
  }
  p.set('axis', $('axis').value);
  return p;
}

function restore() {
  const p = new URLSearchParams(location.search);
  for (const f of fields) {
    const el = $(f);
    if (p.has(el.name)) el.value = p.get(el.name);
  }
  if (p.has('axis')) $('axis').value = p.get('axis');
}

async function api(path, params) {
  const binary = uploadedConfig instanceof ArrayBuffer;
  if (binary) params.set('fileSize', String(uploadedSize));
  const opts = uploadedConfig ? { method: 'POST', body: uploadedConfig, headers: { 'content-type': binary ? 'application/octet-stream' : 'application/json' } } : {};
  const res = await fetch(path + '?' + params.toString(), opts);
  const body = await res.json().catch(() => ({ error: 'unreadable answer (' + res.status + ')' }));
  if (!res.ok) throw new Error(body.error || ('HTTP ' + res.status));
  return body;
}

function svgEl(name, attrs, text) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

function explainText(item) {
  const inputs = item.inputs.map((i) => i.unit === '' && i.value === 0 && i.name.includes('=') ? i.name : `${i.name} = ${i.value}${i.unit ? ' ' + i.unit : ''}`);
  return `${item.name}: ${size(item.bytes)}\n= ${item.formula}` + (inputs.length ? `\n${inputs.join('; ')}` : '') + (item.origin ? `\nsource: ${item.origin}` : '');
}

function drawBars(doc) {
  const svg = $('bars');
  svg.replaceChildren();
  const devices = doc.gpus.concat(doc.host);
  const width = svg.clientWidth || 800, rowH = 34, left = 90, right = 20;
  svg.setAttribute('height', String(devices.length * rowH + 30));
  const scaleMax = Math.max(...devices.map((d) => Math.max(d.totalBytes, d.capacityBytes)), 1);
  const x = (b) => left + (width - left - right) * b / scaleMax;
  devices.forEach((d, row) => {
    const y = 10 + row * rowH;
    svg.appendChild(svgEl('text', { x: 0, y: y + 17 }, d.device));
    let acc = 0;
    for (const item of d.items) {
      const rect = svgEl('rect', { x: x(acc), y, width: Math.max(0, x(acc + item.bytes) - x(acc)), height: 24, fill: colors[item.category] || '#888', 'data-category': item.category });
      rect.appendChild(svgEl('title', {}, explainText(item)));
      svg.appendChild(rect);
      acc += item.bytes;
    }
    if (d.capacityBytes > 0) {
      svg.appendChild(svgEl('line', { x1: x(d.capacityBytes), x2: x(d.capacityBytes), y1: y - 4, y2: y + 28, stroke: '#cf222e', 'stroke-width': 2, class: 'capacity' }));
    }
    svg.appendChild(svgEl('text', { x: Math.min(x(acc) + 4, width - 80), y: y + 17 }, size(d.totalBytes)));
  });
  let lx = left;
  for (const [cat, color] of Object.entries(colors)) {
    if (!devices.some((d) => d.items.some((i) => i.category === cat))) continue;
    svg.appendChild(svgEl('rect', { x: lx, y: devices.length * rowH + 14, width: 10, height: 10, fill: color }));
    svg.appendChild(svgEl('text', { x: lx + 14, y: devices.length * rowH + 23 }, labels[cat]));
    lx += 110;
  }
}

function renderItems(doc) {
  const body = $('items').querySelector('tbody');
  body.replaceChildren();
  for (const d of doc.gpus.concat(doc.host)) {
    for (const item of d.items) {
      const tr = document.createElement('tr');
      tr.title = explainText(item);
      for (const [text, cls] of [[item.name, ''], [d.device, ''], [size(item.bytes), 'num']]) {
        const td = document.createElement('td');
        td.textContent = text;
        if (cls) td.className = cls;
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
  }
  const tree = $('explain-body');
  tree.replaceChildren();
  const build = (items) => {
    const ul = document.createElement('ul');
    for (const item of items) {
      const li = document.createElement('li');
      li.textContent = `${item.name}: ${size(item.bytes)} `;
      const f = document.createElement('span');
      f.className = 'f';
      f.textContent = explainText(item).split('\n').slice(1).join(' · ');
      li.appendChild(f);
      if (item.children.length) li.appendChild(build(item.children));
      ul.appendChild(li);
    }
    return ul;
  };
  for (const d of doc.gpus.concat(doc.host)) {
    const h = document.createElement('strong');
    h.textContent = `${d.device}: ${size(d.totalBytes)}`;
    tree.append(h, build(d.items));
  }
  $('launch').textContent = doc.launchCommand || '(this engine has no launch command)';
  const notes = $('notes');
  notes.replaceChildren(...doc.notes.map((n) => { const li = document.createElement('li'); li.textContent = n; return li; }));
}

function renderVerdict(doc) {
  const v = $('verdict');
  const worst = doc.gpus.reduce((a, b) => (a === null || (b.headroomBytes ?? 0) < (a.headroomBytes ?? 0) ? b : a), null);
  if (doc.fits === null) { v.className = 'verdict'; v.textContent = `${size(doc.totalBytes)} needed — give a GPU for a verdict`; return; }
  v.className = 'verdict ' + (doc.fits ? 'fits' : 'nofit');
  v.textContent = doc.fits
    ? `Fits: ${size(doc.totalBytes)} of ${size(doc.gpus.reduce((s, g) => s + g.capacityBytes, 0))}, ${size(worst.headroomBytes)} headroom on ${worst.device}`
    : `Does not fit: ${worst.device} needs ${size(-worst.headroomBytes)} more`;
}

function drawCurve(curve) {
  const svg = $('curve');
  svg.replaceChildren();
  const width = svg.clientWidth || 800, height = 260, left = 70, bottom = 30, top = 10, right = 20;
  const pts = curve.points;
  if (pts.length === 0) return;
  const maxY = Math.max(curve.capacityBytes, ...pts.map((p) => p.totalBytes)) * 1.05;
  const lx = (v) => Math.log(v);
  const x0 = lx(pts[0].x), x1 = lx(pts[pts.length - 1].x) || x0 + 1;
  const X = (v) => left + (width - left - right) * (lx(v) - x0) / Math.max(x1 - x0, 1e-9);
  const Y = (b) => height - bottom - (height - bottom - top) * b / maxY;
  svg.appendChild(svgEl('line', { x1: left, x2: width - right, y1: height - bottom, y2: height - bottom, stroke: '#999' }));
  svg.appendChild(svgEl('line', { x1: left, x2: left, y1: top, y2: height - bottom, stroke: '#999' }));
  for (const series of [['totalBytes', '#1d2330'], ['kvCacheBytes', colors.KvCache], ['activationBytes', colors.Activations], ['weightBytes', colors.Weights]]) {
    const d = pts.map((p, i) => `${i ? 'L' : 'M'}${X(p.x).toFixed(1)},${Y(p[series[0]]).toFixed(1)}`).join(' ');
    svg.appendChild(svgEl('path', { d, fill: 'none', stroke: series[1], 'stroke-width': series[0] === 'totalBytes' ? 2.5 : 1.5, class: 'series-' + series[0] }));
  }
  for (const p of pts) {
    const c = svgEl('circle', { cx: X(p.x), cy: Y(p.totalBytes), r: 3, fill: p.fits ? '#1a7f37' : '#cf222e', class: 'point' });
    c.appendChild(svgEl('title', {}, `${curve.axis} ${p.x}: ${size(p.totalBytes)}`));
    svg.appendChild(c);
  }
  if (curve.capacityBytes > 0) {
    svg.appendChild(svgEl('line', { x1: left, x2: width - right, y1: Y(curve.capacityBytes), y2: Y(curve.capacityBytes), stroke: '#cf222e', 'stroke-dasharray': '6 4', class: 'capacity' }));
    svg.appendChild(svgEl('text', { x: left + 4, y: Y(curve.capacityBytes) - 4 }, 'capacity ' + size(curve.capacityBytes)));
  }
  for (let i = 0; i <= 4; i++) {
    const b = maxY * i / 4;
    svg.appendChild(svgEl('text', { x: 2, y: Y(b) + 4 }, size(b)));
  }
  for (const p of [pts[0], pts[Math.floor(pts.length / 2)], pts[pts.length - 1]]) {
    svg.appendChild(svgEl('text', { x: X(p.x) - 10, y: height - 10 }, String(p.x)));
  }
}

async function update() {
  const my = ++seq;
  const params = query();
  history.replaceState(null, '', '?' + params.toString());
  $('error').hidden = true;
  try {
    const [doc, curve] = await Promise.all([api('/api/estimate', params), api('/api/curve', params)]);
    if (my !== seq) return;
    renderVerdict(doc);
    drawBars(doc);
    renderItems(doc);
    drawCurve(curve);
    document.body.dataset.state = 'ready';
  } catch (e) {
    if (my !== seq) return;
    $('error').hidden = false;
    $('error').textContent = e.message;
    document.body.dataset.state = 'error';
  }
}

async function loadPickers() {
  try {
    const models = await (await fetch('/api/models')).json();
    $('models').replaceChildren(...models.map((m) => { const o = document.createElement('option'); o.value = m.id; o.label = `${m.architecture}, ${(m.parameters / 1e9).toFixed(2)}B`; return o; }));
  } catch { /* the field still accepts any id */ }
  try {
    const res = await fetch('/api/gpus');
    if (res.ok) {
      const gpus = await res.json();
      $('gpu-list').replaceChildren(...gpus.map((g) => { const o = document.createElement('option'); o.value = g.id; o.label = g.name; return o; }));
    }
  } catch { /* sizes still work */ }
  try {
    const engines = (await (await fetch('/api/engines')).json()).filter((e) => e.id !== 'rule-of-thumb');
    const current = $('engine').value;
    $('engine').replaceChildren(...engines.map((e) => { const o = document.createElement('option'); o.value = e.id; o.textContent = e.id; return o; }));
    $('engine').value = new URLSearchParams(location.search).get('engine') || current;
  } catch { /* keep transformers */ }
}

$('copy').addEventListener('click', async () => {
  const text = $('launch').textContent;
  try { await navigator.clipboard.writeText(text); } catch { /* insecure context: fall back to selection */ }
  const range = document.createRange();
  range.selectNodeContents($('launch'));
  const sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
  $('copied').textContent = 'copied';
  document.body.dataset.copied = text;
});

// A safetensors file starts with an 8-byte little-endian header length and the JSON header: read only those.
async function safetensorsHeader(file) {
  const head = new DataView(await file.slice(0, 8).arrayBuffer());
  const length = Number(head.getBigUint64(0, true));
  if (length <= 0 || length > 100 * 1024 * 1024) throw new Error(`${file.name}: not a safetensors file`);
  return { name: file.name, size: file.size, header: await file.slice(8, 8 + length).text() };
}

$('upload').addEventListener('change', async (e) => {
  const files = Array.from(e.target.files);
  const config = files.find((f) => f.name.endsWith('config.json') || (f.name.endsWith('.json') && !f.name.includes('index')));
  const shards = files.filter((f) => f.name.endsWith('.safetensors'));
  if (config && shards.length > 0) {
    try {
      const bundle = { config: JSON.parse(await config.text()), safetensors: await Promise.all(shards.map(safetensorsHeader)) };
      uploadedConfig = JSON.stringify(bundle);
      $('upload-name').textContent = `using ${config.name} + ${shards.length} safetensors header(s)`;
      update();
    } catch (err) { $('error').hidden = false; $('error').textContent = err.message; }
    return;
  }
  const file = files[0];
  if (!file) return;
  if (file.name.toLowerCase().endsWith('.gguf')) {
    // only the header is needed: metadata and tensor infos sit at the start (16 MiB covers 256k-token vocabularies)
    uploadedConfig = await file.slice(0, Math.min(file.size, 15 * 1024 * 1024)).arrayBuffer();
    uploadedSize = file.size;
    $('engine').value = 'llama.cpp';   // a GGUF runs on llama.cpp
  } else {
    if (file.size > 4 * 1024 * 1024) { $('error').hidden = false; $('error').textContent = 'config.json larger than 4 MiB: not a config'; return; }
    uploadedConfig = await file.text();
  }
  $('upload-name').textContent = 'using ' + file.name;
  if (!$('model').value) $('model').value = file.name;
  update();
});

let timer = null;
for (const f of fields.concat(['axis'])) {
  $(f).addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(update, 150); });
}

restore();
loadPickers().then(update);

// ---- tabs, plan and simulation ----
for (const tab of document.querySelectorAll('.tab')) {
  tab.addEventListener('click', () => {
    for (const t of document.querySelectorAll('.tab')) t.classList.toggle('active', t === tab);
    for (const p of document.querySelectorAll('.panel')) p.hidden = p.id !== tab.dataset.tab;
  });
}

function fmtTime(s) { return s == null ? '?' : s < 1 ? (s * 1000).toFixed(1) + ' ms' : s.toFixed(2) + ' s'; }

$('run-plan').addEventListener('click', async () => {
  const params = query();
  params.delete('engine');
  params.set('concurrency', $('concurrency').value);
  params.set('goal', $('goal').value);
  $('plan-status').textContent = 'planning…';
  const body = $('plan-table').querySelector('tbody');
  body.replaceChildren();
  try {
    const plan = await api('/api/plan', params);
    $('plan-status').textContent = `${plan.candidatesEvaluated} configurations tried, ${plan.options.length} shown` + (plan.notes.length ? ' — ' + plan.notes.join('; ') : '');
    for (const o of plan.options) {
      const tr = document.createElement('tr');
      tr.title = `${o.weightQuality}\n${o.kvQuality}` + (o.notes.length ? '\n' + o.notes.join('\n') : '');
      const cells = [String(o.rank), o.configuration, size(o.peakGpuBytes), fmtTime(o.ttftSeconds), fmtTime(o.tpotSeconds),
        o.tokensPerSecond == null ? '?' : o.tokensPerSecond.toFixed(0), o.qualityRisk + (o.pareto ? ' · pareto' : '')];
      cells.forEach((text, i) => { const td = document.createElement('td'); td.textContent = text; if (i >= 2 && i <= 5) td.className = 'num'; tr.appendChild(td); });
      const td = document.createElement('td');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'Copy command';
      button.className = 'copy-plan';
      button.addEventListener('click', async () => {
        document.body.dataset.copied = o.launchCommand || '';
        button.textContent = 'copied';
        try { await navigator.clipboard.writeText(o.launchCommand || ''); } catch { /* insecure context */ }
      });
      td.appendChild(button);
      tr.appendChild(td);
      body.appendChild(tr);
    }
    document.body.dataset.plan = 'ready';
  } catch (e) {
    $('plan-status').textContent = e.message;
    document.body.dataset.plan = 'error';
  }
});

$('run-sim').addEventListener('click', async () => {
  const params = query();
  if (!['vllm', 'sglang', 'tensorrt-llm', 'tgi'].includes(params.get('engine'))) params.set('engine', 'vllm');
  params.set('rate', $('rate').value);
  params.set('requests', $('requests').value);
  params.set('promptLen', $('prompt-len').value);
  params.set('outputLen', $('output-len').value);
  params.set('policy', 'compare');
  params.set('maxModelLen', $('context').value || '8192');
  $('sim-status').textContent = 'simulating…';
  const body = $('sim-table').querySelector('tbody');
  body.replaceChildren();
  try {
    const study = await api('/api/simulate', params);
    const runs = study.runs;
    const rows = [
      ['throughput (req/s)', (r) => r.requestsPerSecond.toFixed(2)],
      ['output tokens/s', (r) => r.outputTokensPerSecond.toFixed(0)],
      ['TTFT p50 / p90', (r) => `${fmtTime(r.ttft.p50)} / ${fmtTime(r.ttft.p90)}`],
      ['TPOT p50 / p90', (r) => `${fmtTime(r.tpot.p50)} / ${fmtTime(r.tpot.p90)}`],
      ['preemptions', (r) => String(r.preemptions)],
    ];
    for (const [label, f] of rows) {
      const tr = document.createElement('tr');
      const th = document.createElement('td'); th.textContent = label; tr.appendChild(th);
      for (const r of runs) { const td = document.createElement('td'); td.className = 'num'; try { td.textContent = f(r); } catch { td.textContent = '?'; } tr.appendChild(td); }
      body.appendChild(tr);
    }
    const svg = $('sim-chart');
    svg.replaceChildren();
    const max = Math.max(...runs.map((r) => r.outputTokensPerSecond), 1);
    runs.forEach((r, i) => {
      const w = 500 * r.outputTokensPerSecond / max;
      svg.appendChild(svgEl('text', { x: 0, y: 30 + i * 40 }, r.policy));
      const rect = svgEl('rect', { x: 90, y: 15 + i * 40, width: w, height: 22, fill: ['#9d9da0', '#f58518', '#4c78a8'][i % 3], class: 'sim-bar' });
      rect.appendChild(svgEl('title', {}, `${r.policy}: ${r.outputTokensPerSecond.toFixed(0)} output tokens/s`));
      svg.appendChild(rect);
      svg.appendChild(svgEl('text', { x: 96 + w, y: 30 + i * 40 }, r.outputTokensPerSecond.toFixed(0) + ' tok/s'));
    });
    $('sim-status').textContent = `KV pool ${study.performance ? '' : ''}— ${runs.length} policies on the same ${$('requests').value} requests`;
    document.body.dataset.sim = 'ready';
  } catch (e) {
    $('sim-status').textContent = e.message;
    document.body.dataset.sim = 'error';
  }
});
