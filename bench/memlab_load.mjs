// memlab's own load of a .heapsnapshot, for snapheap_inspect_bench (bench/bench_inspect.cpp),
// which runs it as a child process in the same run as its own benchmarks: getFullHeapFromFile
// (memlab's parser, shortest paths, dominators and retained sizes: what a memlab analysis does
// first). Prints one JSON line: load_ms, nodes, edges, max_rss_bytes.
//
//   node --max-old-space-size=16384 bench/memlab_load.mjs FILE.heapsnapshot
import {createRequire} from 'node:module';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../tools/node/package.json'));
const core = require('@memlab/core');
core.config.muteConsole = true;
const {getFullHeapFromFile} = require('@memlab/heap-analysis');

const started = process.hrtime.bigint();
const heap = await getFullHeapFromFile(process.argv[2]);
const ms = Number(process.hrtime.bigint() - started) / 1e6;
console.log(JSON.stringify({load_ms: ms, nodes: heap.nodes.length, edges: heap.edges.length,
                            max_rss_bytes: process.resourceUsage().maxRSS * 1024}));
