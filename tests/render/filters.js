// filters.js - opens a page written by `casie render` in the system's headless
// Chromium (through playwright-core, as check.js does) and checks what the
// filters (subtype, realis, minimum score) show, against the JSON the page
// was made from, for every combination of a subtype (or all), a realis (or
// all) and a few minimum scores:
//   - an event's summary row and event card are shown exactly when the event
//     passes; a hopper's summary heading and card when one of its events does;
//   - a highlighted span (its first element, with data-ev) keeps its highlight
//     exactly when one of the events that use it passes (the events are found
//     in the JSON by offsets, not read from data-ev, which is checked against
//     them), and loses it (class "off", a transparent background, its text
//     still there) otherwise; every continuation element (same data-m) does
//     the same as its first, and carries no data-ev;
//   - a page of several documents has a table of contents: one entry per
//     document, its title (or id), a link to its section, and the events the
//     filters show; a page of one document shows none;
//   - the count of events shown, and no request over the network.
// Also counts the cases it met (a shared span kept lit while one of its
// events is hidden, a continuation turned off, ...) and fails when one of
// them never came up: the page made from tests/data/render/filters.jsonl has
// them all; pass --any to check a page that need not.
// Prints every error; the last line is "filters: N combinations, N checks,
// N errors"; exits 1 when there is an error.
// usage: node filters.js PAGE.html DOCS.jsonl [--any] [CHROMIUM]
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const argv = process.argv.slice(2);
const any = argv.includes('--any');
const [page_path, docs_path, exe = '/usr/bin/chromium'] = argv.filter((a) => a !== '--any');
if (!page_path || !docs_path) {
  console.error('usage: node filters.js PAGE.html DOCS.jsonl [--any] [CHROMIUM]');
  process.exit(2);
}
const docs = fs.readFileSync(docs_path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
let errors = 0, checks = 0;
const error = (msg) => { if (++errors <= 50) console.error(msg); };
const expect = (ok, msg) => { checks++; if (!ok) error(msg); };

// Each document's events as the page names them ("h.i", from 1), with what
// the filters read, and the events of each span ("trigger 3 9": ["1.1"]).
const model = docs.map((d) => {
  const events = [], uses = {};
  const use = (key, id) => { (uses[key] = uses[key] || []).includes(id) || uses[key].push(id); };
  ((d.cyberevent && d.cyberevent.hopper) || []).forEach((h, hi) => h.events.forEach((e, ei) => {
    const id = `${hi + 1}.${ei + 1}`, n = e.nugget || {};
    events.push({ id, hopper: String(hi + 1), subtype: e.subtype, realis: e.realis === 'General' ? 'Generic' : e.realis,
      score: n.score === undefined ? 1 : n.score });
    use(`trigger ${n.startOffset} ${n.endOffset}`, id);
    for (const a of e.argument || []) use(`argument ${a.startOffset} ${a.endOffset}`, id);
  }));
  // the heading: the title, else the id (a file's name without .txt when it has none: not checked)
  return { name: d.id || d.sourcefile, title: (d.info && d.info.title) || d.id, events, uses };
});
// (the page writes scores to 4 places; a score too near a threshold would
// leave the answer to rounding: the fixture has none)
const passes = (e, f) => (!f.subtype || e.subtype === f.subtype) && (!f.realis || e.realis === f.realis) &&
  parseFloat(e.score.toFixed(4)) >= f.min;

// What the page shows now, read in the page in one go.
function state() {
  const shown = (el) => !el.hidden;
  const sections = [...document.querySelectorAll('section.doc')].map((s) => ({
    id: s.id, heading: (s.querySelector('h2') || {}).textContent,
    rows: [...s.querySelectorAll('tr.ev')].map((r) => ({ ev: r.dataset.ev, shown: shown(r) })),
    heads: [...s.querySelectorAll('tr.hop')].map((r) => ({ hopper: r.dataset.hopper, shown: shown(r) })),
    cards: [...s.querySelectorAll('div.event')].map((c) => ({ ev: c.dataset.ev, shown: shown(c) })),
    hoppers: [...s.querySelectorAll('div.hopper')].map((c) => ({ hopper: c.dataset.hopper, shown: shown(c) })),
    marks: [...s.querySelectorAll('mark')].map((m) => ({
      key: `${m.dataset.span} ${m.dataset.start} ${m.dataset.end}`, m: m.dataset.m, ev: m.dataset.ev,
      off: m.classList.contains('off'), text: m.textContent,
      bg: getComputedStyle(m).backgroundColor,
    })),
  }));
  const toc = document.getElementById('toc');
  return {
    sections, count: document.getElementById('f-count').textContent,
    toc: toc && {
      shown: !toc.hidden && toc.getClientRects().length > 0,
      items: [...toc.querySelectorAll('li')].map((li) => {
        const a = li.querySelector('a'), target = a && document.getElementById(a.getAttribute('href').slice(1));
        return { text: a && a.textContent, n: (li.querySelector('.n') || {}).textContent,
          target: target ? [...document.querySelectorAll('section.doc')].indexOf(target) : -1 };
      }),
    },
  };
}

// Sets the three filters as a user's choices would, each with its event.
function set_filters([subtype, realis, min]) {
  for (const [id, v, ev] of [['f-subtype', subtype, 'change'], ['f-realis', realis, 'change'], ['f-score', min, 'input']]) {
    const el = document.getElementById(id);
    el.value = v;
    el.dispatchEvent(new Event(ev, { bubbles: true }));
  }
}

const seen = { shared_lit: 0, shared_off: 0, cont_lit: 0, cont_off: 0, hopper_hidden: 0, toc: 0 };

function compare(what, f, st) {
  expect(st.sections.length === model.length, `${what}: ${st.sections.length} sections, ${model.length} documents`);
  let total = 0, shown = 0;
  st.sections.forEach((s, k) => {
    const doc = model[k];
    if (!doc) return;
    const pass = {}, hops = {};
    for (const e of doc.events) {
      pass[e.id] = passes(e, f);
      if (pass[e.id]) hops[e.hopper] = true, shown++;
      total++;
    }
    const where = `${what}, ${doc.name}`;
    expect(s.rows.length === doc.events.length && s.cards.length === doc.events.length,
      `${where}: ${s.rows.length} rows, ${s.cards.length} cards, ${doc.events.length} events`);
    for (const [kind, list] of [['row', s.rows], ['card', s.cards]])
      for (const r of list) expect(r.shown === pass[r.ev], `${where}: ${kind} ${r.ev} ${r.shown ? 'shown' : 'hidden'}`);
    for (const [kind, list] of [['heading', s.heads], ['hopper card', s.hoppers]])
      for (const h of list) {
        expect(h.shown === !!hops[h.hopper], `${where}: ${kind} ${h.hopper} ${h.shown ? 'shown' : 'hidden'}`);
        if (!h.shown && kind === 'hopper card') seen.hopper_hidden++;
      }
    // marks: the first element of each span, then its continuations
    const first = {};
    for (const m of s.marks) {
      const uses = doc.uses[m.key];
      if (m.ev !== undefined) {
        expect(first[m.m] === undefined, `${where}: span ${m.m} (${m.key}) has two elements with data-ev`);
        first[m.m] = m;
        expect(uses && m.ev === uses.join(' '), `${where}: span ${m.key} data-ev "${m.ev}", the JSON's "${uses}"`);
        const lit = !!uses && uses.some((id) => pass[id]);
        expect(m.off === !lit, `${where}: span ${m.key} (${m.text}) ${m.off ? 'off' : 'lit'}`);
        if (uses && uses.length > 1 && lit && uses.some((id) => !pass[id])) seen.shared_lit++;
        if (uses && uses.length > 1 && !lit) seen.shared_off++;
      } else {
        const head = first[m.m];
        expect(head && head.key === m.key, `${where}: continuation of span ${m.m} (${m.key}) before or unlike its first`);
        if (head) expect(m.off === head.off, `${where}: continuation of ${m.key} ${m.off ? 'off' : 'lit'}, its first not`);
        seen[m.off ? 'cont_off' : 'cont_lit']++;
      }
      if (m.off) expect(m.bg === 'rgba(0, 0, 0, 0)', `${where}: span ${m.key} off but drawn (${m.bg})`);
      else expect(m.bg !== 'rgba(0, 0, 0, 0)' || m.key.startsWith('argument'), `${where}: trigger ${m.key} lit, no colour`);
    }
    // the table of contents
    if (model.length > 1 && st.toc) {
      const it = st.toc.items[k] || {}, n = doc.events.filter((e) => pass[e.id]).length;
      expect(it.text === s.heading && !!s.heading, `${where}: contents entry "${it.text}", heading "${s.heading}"`);
      if (doc.title) expect(s.heading === doc.title, `${where}: heading "${s.heading}", want "${doc.title}"`);
      expect(it.target === k, `${where}: contents entry links to section ${it.target}`);
      const want = `${n} of ${doc.events.length} event${doc.events.length === 1 ? '' : 's'}`;
      expect(it.n === want, `${where}: contents count "${it.n}", want "${want}"`);
      seen.toc++;
    }
  });
  expect(st.toc !== null, `${what}: no table of contents' place`);
  if (st.toc) {
    expect(st.toc.shown === model.length > 1, `${what}: contents ${st.toc.shown ? 'shown' : 'hidden'} for ${model.length} documents`);
    expect(st.toc.items.length === (model.length > 1 ? model.length : 0), `${what}: ${st.toc.items.length} contents entries`);
  }
  expect(st.count === `${shown} of ${total} events shown`, `${what}: count "${st.count}", want ${shown} of ${total}`);
}

(async () => {
  const browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage();
  const requests = [];
  page.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
  await page.goto('file://' + path.resolve(page_path));
  const subtypes = await page.$$eval('#f-subtype option', (os) => os.map((o) => o.value));
  const realis = await page.$$eval('#f-realis option', (os) => os.map((o) => o.value));
  let combos = 0;
  // through the form as a user would, once
  await page.selectOption('#f-subtype', 'Ransom');
  await page.fill('#f-score', '0.5');
  compare('subtype Ransom, score >= 0.5 (typed)', { subtype: 'Ransom', realis: '', min: 0.5 }, await page.evaluate(state));
  // then every combination, set and dispatched in the page
  for (const s of subtypes)
    for (const r of realis)
      for (const min of [0, 0.5, 0.7, 0.85, 0.95]) {
        // one expression (the page's policy allows no eval in it; the
        // browser's own evaluation is not bound by it)
        const st = await page.evaluate(`(${set_filters})(${JSON.stringify([s, r, String(min)])}), (${state})()`);
        compare(`subtype "${s}", realis "${r}", score >= ${min}`, { subtype: s, realis: r, min }, st);
        combos++;
      }
  if (!any)
    for (const [k, n] of Object.entries(seen)) expect(n > 0 || (k === 'toc' && model.length < 2), `never met: ${k}`);
  if (requests.length) error(`network requests: ${requests.join(' ')}`);
  await browser.close();
  console.log(`met: ${Object.entries(seen).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  console.log(`filters: ${combos} combinations, ${checks} checks, ${errors} errors`);
  process.exit(errors ? 1 : 0);
})().catch((e) => { console.error(e); process.exit(1); });
