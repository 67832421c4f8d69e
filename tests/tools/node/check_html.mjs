// `snapheap html` opened in headless Chromium (Debian's chromium, driven by playwright-core from
// tools/node; tools/install-deps installs both): the page renders its top table and its treemap
// (DOM queries against what `snapheap top --json` says), its retainer paths, with no console
// error, no failed or outgoing request, and a screenshot is taken (DIR/report.png).
//
//   node check_html.mjs --tool build/tools/snapheap --work DIR [--chromium /usr/bin/chromium]
import {createRequire} from 'node:module';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../../tools/node/package.json'));
const args = {chromium: '/usr/bin/chromium'};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
if (!args.tool || !args.work) {
  console.error('check_html: missing --tool or --work');
  process.exit(2);
}
let chromium;
try {
  ({chromium} = require('playwright-core'));
} catch (e) {
  console.error(`check_html: playwright-core is missing (run tools/install-deps): ${e.message}`);
  process.exit(1);
}
if (!fs.existsSync(args.chromium)) {
  console.error(`check_html: no Chromium at ${args.chromium} (run tools/install-deps)`);
  process.exit(1);
}

let passed = 0, failed = 0;
const check = (ok, what) => (ok ? passed++ : (failed++, console.log(`FAILED: ${what}`)));

fs.rmSync(args.work, {recursive: true, force: true});
fs.mkdirSync(args.work, {recursive: true});
const tool = (...a) => execFileSync(args.tool, a, {encoding: 'utf8'});
const demo = path.join(args.work, 'demo');
tool('demo', '--elements', '1000', demo);

const browser = await chromium.launch({
  executablePath: args.chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
try {
  for (const name of ['strong-ref-all', 'weak-ref-model']) {
    const snap = path.join(demo, name + '.snap');
    const page = path.join(args.work, name + '.html');
    tool('html', snap, '-o', page);
    const top = JSON.parse(tool('top', '--json', snap));
    const tab = await browser.newPage({viewport: {width: 1100, height: 1400}});
    const problems = [];
    tab.on('console', m => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
    tab.on('pageerror', e => problems.push(`page error: ${e.message}`));
    tab.on('requestfailed', r => problems.push(`request failed: ${r.url()}`));
    tab.on('request', r => { if (!r.url().startsWith('file:')) problems.push(`request: ${r.url()}`); });
    await tab.goto(pathToFileURL(page).href, {waitUntil: 'load'});
    const rows = await tab.$$eval('#types-table tbody tr', trs => trs.map(tr => [...tr.cells].map(td => td.textContent)));
    check(rows.length === top.types.length, `${name}: ${rows.length} table rows for ${top.types.length} types`);
    for (let i = 0; i < Math.min(rows.length, top.types.length); i++) {
      check(rows[i][0] === top.types[i].name, `${name}: row ${i} is ${rows[i][0]}, not ${top.types[i].name}`);
      check(rows[i][3].replace(/,/g, '') === String(top.types[i].retained_bytes), `${name}: row ${i}'s retained bytes`);
    }
    const cells = await tab.$$eval('#treemap rect', rs => rs.map(r => {
      const b = r.getBoundingClientRect();
      return {w: b.width, h: b.height, title: r.querySelector('title')?.textContent ?? ''};
    }));
    const withRetained = top.types.filter(t => t.retained_bytes > 0);
    check(cells.length === withRetained.length, `${name}: ${cells.length} treemap cells for ${withRetained.length} types`);
    check(cells.every(c => c.w > 0 && c.h > 0), `${name}: every treemap cell is drawn`);
    // Areas follow the retained bytes: the largest type's cell is the largest.
    if (cells.length > 1) {
      const areas = cells.map(c => c.w * c.h);
      check(areas[0] === Math.max(...areas) && cells[0].title.startsWith(withRetained[0].name),
            `${name}: the largest cell is ${withRetained[0].name}`);
      const total = areas.reduce((a, b) => a + b, 0);
      const bytes = withRetained.reduce((a, t) => a + t.retained_bytes, 0);
      check(Math.abs(areas[0] / total - withRetained[0].retained_bytes / bytes) < 0.02, `${name}: cell area is proportional`);
    }
    const paths = await tab.$$eval('#retainers > li', lis => lis.map(li => li.querySelectorAll('ol.path li').length));
    check(paths.length === Math.min(10, top.largest_retainers.length), `${name}: retainer list`);
    check(paths.every(n => n >= 1), `${name}: every retainer has a path from a root`);
    const screenshot = path.join(args.work, name + '.png');
    await tab.screenshot({path: screenshot, fullPage: true});
    check(fs.statSync(screenshot).size > 5000, `${name}: screenshot`);
    check(problems.length === 0, `${name}: ${problems.join('; ')}`);
    await tab.close();
  }
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
