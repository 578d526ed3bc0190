// check.js - opens a page written by `casie render` in the system's headless
// Chromium (through playwright-core, which downloads no browser) and checks:
//   - each document section has a title, a dateline, and one summary row per
//     event of the JSON the page was made from, grouped by hopper, in order,
//     with the event's subtype, realis, trigger and score;
//   - the filters work: choosing a subtype hides exactly the rows of other
//     subtypes (and the headings of hoppers left empty), a realis likewise,
//     and a minimum score hides the rows scoring under it;
//   - the page asked for nothing over the network.
// Prints every error; the last line is "render: N rows, N filters checked,
// N errors"; exits 1 when there is an error.
// usage: node check.js PAGE.html DOCS.jsonl [CHROMIUM]
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const [page_path, docs_path, exe = '/usr/bin/chromium'] = process.argv.slice(2);
if (!page_path || !docs_path) {
  console.error('usage: node check.js PAGE.html DOCS.jsonl [CHROMIUM]');
  process.exit(2);
}
const docs = fs.readFileSync(docs_path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
let errors = 0, filters = 0;
const error = (msg) => { errors++; console.error(msg); };

// The rows the JSON says the page should have, per document.
function expected(doc) {
  const rows = [];
  (doc.cyberevent && doc.cyberevent.hopper || []).forEach((h, hi) => {
    for (const e of h.events) {
      rows.push({ hopper: String(hi + 1), subtype: e.subtype, realis: e.realis === 'General' ? 'Generic' : e.realis,
        trigger: e.nugget.text, score: e.score });
    }
  });
  return rows;
}

(async () => {
  const browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage();
  const requests = [];
  page.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
  await page.goto('file://' + path.resolve(page_path));
  const sections = await page.$$eval('section.doc', (ss) => ss.map((s) => ({
    title: (s.querySelector('h2') || {}).textContent || '',
    dateline: (s.querySelector('.dateline') || {}).textContent || '',
    rows: [...s.querySelectorAll('table.summary tr.ev')].map((r) => ({
      hopper: r.dataset.hopper, subtype: r.dataset.subtype, realis: r.dataset.realis, score: r.dataset.score,
      trigger: r.querySelector('td.trigger').textContent, shown: r.querySelector('td.score').textContent,
    })),
  })));
  if (sections.length !== docs.length) error(`${sections.length} sections for ${docs.length} documents`);
  let n_rows = 0;
  sections.forEach((s, i) => {
    const doc = docs[i] || {}, want = expected(doc), name = doc.sourcefile || doc.id || `document ${i + 1}`;
    if (!s.title.trim()) error(`${name}: no title`);
    if (!/Published \d{4}-\d\d-\d\d|Date unknown; read \d{4}-\d\d-\d\d/.test(s.dateline)) error(`${name}: dateline "${s.dateline}"`);
    if (s.rows.length !== want.length) error(`${name}: ${s.rows.length} summary rows, ${want.length} events in the JSON`);
    want.forEach((w, k) => {
      const r = s.rows[k];
      if (!r) return;
      n_rows++;
      for (const key of ['hopper', 'subtype', 'realis']) {
        if (r[key] !== w[key]) error(`${name} row ${k + 1}: ${key} ${r[key]}, JSON ${w[key]}`);
      }
      if (!w.trigger.startsWith(r.trigger.replace(/\u2026$/, ''))) error(`${name} row ${k + 1}: trigger "${r.trigger}", JSON "${w.trigger}"`);
      if (w.score !== undefined && (Math.abs(parseFloat(r.score) - w.score) > 1e-4 || r.shown !== w.score.toFixed(2)))
        error(`${name} row ${k + 1}: score ${r.score} (${r.shown}), JSON ${w.score}`);
    });
  });

  // The filters: each subtype, each realis and a few minimum scores.
  const all = sections.flatMap((s) => s.rows);
  const visible = () => page.$$eval('table.summary tr.ev', (rs) => rs.map((r) => !r.hidden));
  const hops_ok = () => page.$$eval('table.summary', (ts) => ts.every((t) => [...t.querySelectorAll('tr.hop')].every((h) =>
    h.hidden === ![...t.querySelectorAll(`tr.ev[data-hopper="${h.dataset.hopper}"]`)].some((r) => !r.hidden))));
  async function check(what, subtype, realis, min, keep) {
    await page.selectOption('#f-subtype', subtype);
    await page.selectOption('#f-realis', realis);
    await page.fill('#f-score', String(min));
    const v = await visible();
    filters++;
    all.forEach((r, k) => {
      if (v[k] !== keep(r)) error(`filter ${what}: row ${k + 1} (${r.subtype}, ${r.realis}, ${r.score}) ${v[k] ? 'shown' : 'hidden'}`);
    });
    if (!(await hops_ok())) error(`filter ${what}: a hopper heading does not match its rows`);
    if (!v.some((x) => !x) && all.some((r) => !keep(r))) error(`filter ${what}: hid nothing`);
  }
  for (const st of new Set(all.map((r) => r.subtype))) await check(`subtype ${st}`, st, '', 0, (r) => r.subtype === st);
  for (const re of new Set(all.map((r) => r.realis))) await check(`realis ${re}`, '', re, 0, (r) => r.realis === re);
  for (const min of [0.5, 0.9]) await check(`score >= ${min}`, '', '', min, (r) => parseFloat(r.score) >= min);
  await check('none', '', '', 0, () => true);
  const count = await page.textContent('#f-count');
  if (count !== `${all.length} of ${all.length} events shown`) error(`event count "${count}"`);
  if (requests.length) error(`network requests: ${requests.join(' ')}`);
  await browser.close();
  console.log(`render: ${n_rows} rows, ${filters} filters checked, ${errors} errors`);
  process.exit(errors ? 1 : 0);
})().catch((e) => { console.error(e); process.exit(1); });
