// `snapheap export --devtools` checked by parsers no one here wrote: memlab's heap analysis
// (getFullHeapFromFile: its parser, shortest paths and Lengauer-Tarjan dominators) and
// v8-heapsnapshot, both installed from npm into tools/node by tools/install-deps.
//
//   node check_exports.mjs --tool build/tools/snapheap --make-graph build/tests/snapheap_make_graph --work DIR
//
// For the demo's six snapshots and a 10^5-object random graph (weak handles and tombstones
// included): both parsers load the export; node and edge counts equal what `snapheap info --json`
// counts (objects + 3 synthetic nodes; references + root edges + 2); memlab's retainer path of
// the seed's payload is `snapheap why`'s, object for object, and its dominator and retained size
// agree; no weak edge is on any memlab retainer path; on the random graph memlab's retained size
// and dominator agree with `snapheap top` for its 50 largest retainers, and its path lengths with
// `snapheap why` for 40 objects. Prints "N passed, M failed" and exits 1 on any failure.
import {createRequire} from 'node:module';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../../tools/node/package.json'));

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const need of ['tool', 'make-graph', 'work']) {
  if (!args[need]) {
    console.error(`check_exports: missing --${need}`);
    process.exit(2);
  }
}

let memlab, memlabCore, v8hs;
try {
  memlabCore = require('@memlab/core');
  memlab = require('@memlab/heap-analysis');
  v8hs = require('v8-heapsnapshot');
} catch (e) {
  console.error(`check_exports: the npm packages are missing (run tools/install-deps): ${e.message}`);
  process.exit(1);
}
memlabCore.config.muteConsole = true;

let passed = 0, failed = 0;
function check(ok, what) {
  if (ok) passed++;
  else {
    failed++;
    console.log(`FAILED: ${what}`);
  }
}
function equal(actual, expected, what) {
  check(JSON.stringify(actual) === JSON.stringify(expected), `${what}: ${JSON.stringify(actual)} != ${JSON.stringify(expected)}`);
}

const tool = (...a) => execFileSync(args.tool, a, {encoding: 'utf8', maxBuffer: 1 << 30});
const toolJson = (...a) => JSON.parse(tool(...a, '--json'));
/** why --json may exit 1 (not found); the JSON is printed either way. */
function whyJson(file, ...query) {
  try {
    return JSON.parse(tool('why', '--json', file, ...query));
  } catch (e) {
    if (e.stdout) return JSON.parse(e.stdout);
    throw e;
  }
}

const objectId = node => (node.id - 7) / 2;  // the export's ids: 7 + 2 x snapshot ID
const GC_ROOTS_ID = 3;

/** The object IDs on memlab's retainer path of `node` (roots and synthetic nodes left out), root first. */
function memlabPath(node) {
  const ids = [];
  const seen = new Set();
  let weakOnPath = false;
  for (let n = node; n && !seen.has(n.id); n = n.hasPathEdge ? n.pathEdge.fromNode : null) {
    seen.add(n.id);
    if (n.type === 'object') ids.push(objectId(n));
    if (n.hasPathEdge && n.pathEdge.type === 'weak') weakOnPath = true;
  }
  return {ids: ids.reverse(), weakOnPath};
}

async function checkFile(file, {payloadType, probeIds = 0, topRetainers = 0}) {
  const name = path.basename(file);
  const out = path.join(args.work, name + '.heapsnapshot');
  tool('export', '--devtools', file, '-o', out);
  const info = toolJson('info', file);
  const nodes = info.objects + 3;
  const edges = info.strong_refs + info.weak_targets + info.weak_tombstones + info.roots.length + 2;

  const started = Date.now();
  const heap = await memlab.getFullHeapFromFile(out);
  const memlabMs = Date.now() - started;
  equal(heap.nodes.length, nodes, `${name}: memlab's node count`);
  equal(heap.edges.length, edges, `${name}: memlab's edge count`);
  let weakOnPaths = 0, objectNodes = 0;
  const byId = new Map();
  heap.nodes.forEach(n => {
    if (n.type === 'object') objectNodes++, byId.set(objectId(n), n);
    if (n.hasPathEdge && n.pathEdge.type === 'weak') weakOnPaths++;
  });
  equal(objectNodes, info.objects, `${name}: object nodes`);
  equal(weakOnPaths, 0, `${name}: weak edges on memlab's retainer paths`);

  const parsed = await v8hs.parseSnapshotFromFile(out);
  equal(parsed.nodes.length, nodes, `${name}: v8-heapsnapshot's node count`);
  equal(parsed.edges.length, edges, `${name}: v8-heapsnapshot's edge count`);
  equal(parsed.edges.filter(e => e.type === 'weak').length, info.weak_targets + info.weak_tombstones,
        `${name}: v8-heapsnapshot's weak edges`);
  const tombstone = parsed.nodes.find(n => n.name === '(tombstone)' && n.type === 'synthetic');
  check(tombstone !== undefined, `${name}: the (tombstone) node`);
  if (tombstone) equal(tombstone.in_edges.filter(e => e.type === 'weak').length, info.weak_tombstones, `${name}: tombstone edges`);
  for (const root of info.roots) {
    const gc = parsed.findNodeById(GC_ROOTS_ID);
    const edge = gc.out_edges.find(e => e.name === root.name);
    check(edge && edge.to.id === 7 + 2 * root.id && edge.to.name === root.type, `${name}: root ${root.name} in v8-heapsnapshot`);
  }

  if (payloadType) {
    const why = whyJson(file, '--type', payloadType);
    const payload = heap.nodes.get ? null : null;
    let node = null;
    heap.nodes.forEach(n => {
      if (n.type === 'object' && n.name === payloadType && (!node || n.self_size > node.self_size)) node = n;
    });
    if (!why.found) {
      check(node === null, `${name}: memlab has no ${payloadType} either`);
      check(why.tombstones_total === info.weak_tombstones, `${name}: why lists the tombstones`);
    } else {
      check(node !== null, `${name}: memlab finds the ${payloadType}`);
      const mp = memlabPath(node);
      equal(mp.ids, why.path.map(s => s.id), `${name}: memlab's retainer path of the payload`);
      check(!mp.weakOnPath, `${name}: no weak edge on the payload's path`);
      const dominator = node.dominatorNode;
      equal(dominator.id === GC_ROOTS_ID ? null : objectId(dominator), why.dominator, `${name}: the payload's dominator`);
      equal(node.retainedSize, why.retained_bytes, `${name}: the payload's retained size`);
    }
    void payload;
  }
  if (topRetainers) {
    const top = toolJson('top', '--limit', String(topRetainers), file);
    for (const r of top.largest_retainers) {
      const node = byId.get(r.id);
      equal(node.retainedSize, r.retained_bytes, `${name}: retained size of object ${r.id}`);
      equal(node.dominatorNode.id === GC_ROOTS_ID ? null : objectId(node.dominatorNode), r.dominator,
            `${name}: dominator of object ${r.id}`);
    }
    // Types: the sum over all objects' self sizes is the record bytes.
    let self = 0;
    heap.nodes.forEach(n => { self += n.self_size; });
    equal(self, top.self_bytes, `${name}: self sizes add up to the record bytes`);
  }
  for (let k = 0; k < probeIds; k++) {
    const id = Math.floor((k * 2654435761) % info.objects);
    const why = whyJson(file, '--id', String(id));
    const mp = memlabPath(byId.get(id));
    // Shortest paths may tie: the lengths must agree, and memlab's must end at the object.
    equal(mp.ids.length, why.path.length, `${name}: path length to object ${id}`);
    equal(mp.ids[mp.ids.length - 1], id, `${name}: memlab's path ends at object ${id}`);
    check(!mp.weakOnPath, `${name}: no weak edge on the path to object ${id}`);
  }
  console.log(`${name}: ${info.objects} objects, memlab loaded the export in ${memlabMs} ms`);
}

fs.rmSync(args.work, {recursive: true, force: true});
fs.mkdirSync(args.work, {recursive: true});
const demoDir = path.join(args.work, 'demo');
tool('demo', '--elements', '1000', demoDir);
for (const f of ['weak-ref-all', 'weak-ref-model', 'strong-ref-all', 'strong-ref-model', 'proxy-all', 'proxy-model']) {
  const type = f.startsWith('proxy') ? 'seed::DataProxy' : 'seed::Payload';
  await checkFile(path.join(demoDir, f + '.snap'), {payloadType: type});
}
const graph = path.join(args.work, 'random-100000.snap');
execFileSync(args['make-graph'], ['100000', '42', graph]);
await checkFile(graph, {probeIds: 40, topRetainers: 50});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
