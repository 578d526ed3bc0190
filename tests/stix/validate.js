// validate.js - validates STIX 2.1 bundles (every *.json in DIR) against the
// OASIS STIX 2.1 JSON schemas: the bundle with common/bundle.json and each
// object with the schema named after its type.  Prints every error; exits 1
// when there is one.  usage: node validate.js SCHEMAS_DIR BUNDLE_DIR
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
const byType = {};
function load(dir) {
  for (const f of fs.readdirSync(dir)) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isDirectory()) { load(p); continue; }
    if (!f.endsWith('.json')) continue;
    const s = JSON.parse(fs.readFileSync(p, 'utf8'));
    ajv.addSchema(s);
    byType[f.replace(/\.json$/, '')] = s.$id;
  }
}
load(schemaDir);
let bundles = 0, objects = 0, errors = 0;
for (const f of fs.readdirSync(bundleDir).filter((x) => x.endsWith('.json')).sort()) {
  const b = JSON.parse(fs.readFileSync(path.join(bundleDir, f), 'utf8'));
  bundles++;
  const check = (id, v, what) => {
    const validate = ajv.getSchema(id);
    if (!validate) { console.error(`${f}: no schema for ${what}`); errors++; return; }
    if (!validate(v)) {
      errors++;
      console.error(`${f}: ${what}: ${JSON.stringify(validate.errors.slice(0, 3))}`);
    }
  };
  check(byType['bundle'], b, 'bundle');
  for (const o of b.objects || []) {
    objects++;
    check(byType[o.type], o, `${o.type} ${o.id}`);
  }
}
console.log(`stix: ${bundles} bundles, ${objects} objects, ${errors} errors`);
process.exit(errors ? 1 : 0);
