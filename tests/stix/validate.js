// validate.js - validates STIX 2.1 bundles (every *.json in BUNDLE_DIR) against
// the OASIS STIX 2.1 JSON schemas: the bundle with common/bundle.json and each
// object with the schema named after its type (ajv's draft 2020-12 build with
// ajv-formats, unicodeRegExp: false as the schemas need).  The schemas leave
// some of the specification to the reader, so this also checks:
//   - every property of an object is one its schemas name (no misspelt or
//     custom properties) or one of casie's x_casie_* custom properties;
//   - identity_class, report_types, malware_types take values of their
//     vocabularies (the *-ov definitions in the schemas);
//   - ids are unique in a bundle and every *_ref / *_refs points into it;
//   - each relationship is one the specification's relationship tables list
//     for its source and target types (or a generic related-to, derived-from,
//     duplicate-of).
// Prints every error; the last line is "stix: N bundles, N objects, N errors";
// exits 1 when there is an error.
// usage: node validate.js SCHEMAS_DIR BUNDLE_DIR
'use strict';
const fs = require('fs');
const path = require('path');
const Ajv2020 = require('ajv/dist/2020');
const addFormats = require('ajv-formats');

const [schemaDir, bundleDir] = process.argv.slice(2);
if (!schemaDir || !bundleDir) {
  console.error('usage: node validate.js SCHEMAS_DIR BUNDLE_DIR');
  process.exit(2);
}
const ajv = new Ajv2020({ strict: false, allErrors: true, unicodeRegExp: false });
addFormats(ajv);
// ajv-formats has no idn-hostname (used by an observable schema): labels of
// 1-63 characters without spaces, dots between them.
ajv.addFormat('idn-hostname', (s) => s.length <= 253 && s.split('.').every((l) => /^[^\s.]{1,63}$/u.test(l)));

const byType = {}; // type -> schema $id
const schemas = {}; // type -> schema
function load(dir) {
  for (const f of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isDirectory()) { load(p); continue; }
    if (!f.endsWith('.json')) continue;
    const s = JSON.parse(fs.readFileSync(p, 'utf8'));
    ajv.addSchema(s);
    const t = f.replace(/\.json$/, '');
    byType[t] = s.$id;
    schemas[t] = s;
  }
}
load(schemaDir);

// The property names a type's schemas define (its own and core's).
function propertyNames(s, out) {
  if (!s || typeof s !== 'object') return out;
  if (s.properties) for (const k of Object.keys(s.properties)) out.add(k);
  for (const sub of [...(s.allOf || []), ...(s.oneOf || []), ...(s.anyOf || [])]) {
    if (sub.$ref) {
      const t = path.basename(sub.$ref).replace(/\.json$/, '');
      if (schemas[t]) propertyNames(schemas[t], out);
    } else {
      propertyNames(sub, out);
    }
  }
  return out;
}
const vocab = (type, name) => new Set(schemas[type].definitions[name].enum);
const VOCABS = {
  identity: { identity_class: vocab('identity', 'identity-class-ov') },
  report: { report_types: vocab('report', 'report-type-ov') },
  malware: { malware_types: vocab('malware', 'malware-type-ov') },
};

// STIX 2.1 section 4: the relationships each SDO lists (source, type, targets).
const SCOS = ['artifact', 'autonomous-system', 'directory', 'domain-name', 'email-addr', 'email-message', 'file',
  'ipv4-addr', 'ipv6-addr', 'mac-addr', 'mutex', 'network-traffic', 'process', 'software', 'url', 'user-account',
  'windows-registry-key', 'x509-certificate'];
const RULES = {
  'attack-pattern': { delivers: ['malware'], targets: ['identity', 'location', 'vulnerability'], uses: ['malware', 'tool'] },
  campaign: {
    'attributed-to': ['intrusion-set', 'threat-actor'], compromises: ['infrastructure'], 'originates-from': ['location'],
    targets: ['identity', 'location', 'vulnerability'], uses: ['attack-pattern', 'infrastructure', 'malware', 'tool'],
  },
  'course-of-action': {
    investigates: ['indicator'], mitigates: ['attack-pattern', 'indicator', 'malware', 'tool', 'vulnerability'],
    remediates: ['malware', 'vulnerability'],
  },
  identity: { 'located-at': ['location'] },
  indicator: {
    indicates: ['attack-pattern', 'campaign', 'infrastructure', 'intrusion-set', 'malware', 'threat-actor', 'tool'],
    'based-on': ['observed-data'],
  },
  infrastructure: {
    'communicates-with': ['infrastructure', 'ipv4-addr', 'ipv6-addr', 'domain-name', 'url'],
    'consists-of': ['infrastructure', 'observed-data', ...SCOS], controls: ['infrastructure', 'malware'],
    delivers: ['malware'], has: ['vulnerability'], hosts: ['tool', 'malware'], 'located-at': ['location'],
    uses: ['infrastructure'],
  },
  'intrusion-set': {
    'attributed-to': ['threat-actor'], compromises: ['infrastructure'], hosts: ['infrastructure'], owns: ['infrastructure'],
    'originates-from': ['location'], targets: ['identity', 'location', 'vulnerability'],
    uses: ['attack-pattern', 'infrastructure', 'malware', 'tool'],
  },
  malware: {
    'authored-by': ['threat-actor', 'intrusion-set'], 'beacons-to': ['infrastructure'], 'exfiltrates-to': ['infrastructure'],
    'communicates-with': ['ipv4-addr', 'ipv6-addr', 'domain-name', 'url'], controls: ['malware'],
    downloads: ['malware', 'tool', 'file'], drops: ['malware', 'tool', 'file'], exploits: ['vulnerability'],
    'originates-from': ['location'], targets: ['identity', 'infrastructure', 'location', 'vulnerability'],
    uses: ['attack-pattern', 'infrastructure', 'malware', 'tool'], 'variant-of': ['malware'],
  },
  'malware-analysis': {
    characterizes: ['malware'], 'analysis-of': ['malware'], 'static-analysis-of': ['malware'],
    'dynamic-analysis-of': ['malware'],
  },
  'threat-actor': {
    'attributed-to': ['identity'], compromises: ['infrastructure'], hosts: ['infrastructure'], impersonates: ['identity'],
    'located-at': ['location'], owns: ['infrastructure'], targets: ['identity', 'location', 'vulnerability'],
    uses: ['attack-pattern', 'infrastructure', 'malware', 'tool'],
  },
  tool: {
    delivers: ['malware'], drops: ['malware'], has: ['vulnerability'],
    targets: ['identity', 'infrastructure', 'location', 'vulnerability'], uses: ['infrastructure'],
  },
};
function relationshipAllowed(src, rel, dst) {
  if (rel === 'related-to') return true;
  if (rel === 'derived-from' || rel === 'duplicate-of') return src === dst;
  return ((RULES[src] || {})[rel] || []).includes(dst);
}
const typeOf = (id) => String(id).split('--')[0];

let bundles = 0, objects = 0, errors = 0;
for (const f of fs.readdirSync(bundleDir).filter((x) => x.endsWith('.json')).sort()) {
  const b = JSON.parse(fs.readFileSync(path.join(bundleDir, f), 'utf8'));
  bundles++;
  const error = (what, msg) => { errors++; console.error(`${f}: ${what}: ${msg}`); };
  const check = (id, v, what) => {
    const validate = ajv.getSchema(id);
    if (!validate) return error(what, 'no schema');
    if (!validate(v)) error(what, JSON.stringify(validate.errors.slice(0, 3)));
  };
  check(byType.bundle, b, 'bundle');
  const ids = new Set();
  for (const o of b.objects || []) {
    if (ids.has(o.id)) error(o.id, 'repeated id');
    ids.add(o.id);
  }
  for (const o of b.objects || []) {
    objects++;
    const what = `${o.type} ${o.id}`;
    if (!schemas[o.type]) { error(what, 'no schema for this type'); continue; }
    check(byType[o.type], o, what);
    const known = propertyNames(schemas[o.type], new Set());
    // custom properties: casie's own, x_casie_<name> (STIX 2.1 section 11.1)
    for (const k of Object.keys(o)) if (!known.has(k) && !/^x_casie_[a-z0-9_]{1,200}$/.test(k)) error(what, `unknown property ${k}`);
    for (const [k, allowed] of Object.entries(VOCABS[o.type] || {})) {
      for (const v of [].concat(o[k] === undefined ? [] : o[k])) {
        if (!allowed.has(v)) error(what, `${k} '${v}' is not in its vocabulary`);
      }
    }
    for (const [k, v] of Object.entries(o)) {
      if (!k.endsWith('_ref') && !k.endsWith('_refs')) continue;
      for (const r of [].concat(v)) if (!ids.has(r)) error(what, `${k} ${r} is not in the bundle`);
    }
    if (o.type === 'relationship') {
      const s = typeOf(o.source_ref), t = typeOf(o.target_ref);
      if (!relationshipAllowed(s, o.relationship_type, t)) error(what, `no relationship ${s} ${o.relationship_type} ${t} in STIX 2.1`);
    }
  }
}
console.log(`stix: ${bundles} bundles, ${objects} objects, ${errors} errors`);
process.exit(errors ? 1 : 0);
