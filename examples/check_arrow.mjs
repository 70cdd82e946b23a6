// Checks the pipeline's Arrow IPC files with the apache-arrow package for
// Node, an implementation independent of the Go writer: that each file
// opens, has the expected columns with the expected types, and how many rows
// it has.
//
//   npm ci --prefix interop          # once: installs apache-arrow
//   node examples/check_arrow.mjs artifacts
//
// apache-arrow is loaded from interop/node_modules (beside this directory),
// or from wherever Node finds it otherwise. Exit status: 0 all good, 1 a
// file is missing or wrong, 2 usage.
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

async function loadArrow() {
  const local = new URL('../interop/package.json', import.meta.url);
  if (existsSync(local)) {
    try {
      return createRequire(local)('apache-arrow');
    } catch {
      // fall through to Node's own lookup
    }
  }
  try {
    return await import('apache-arrow');
  } catch {
    console.error('check_arrow: cannot load apache-arrow; run `npm ci --prefix interop` in the repository root');
    process.exit(2);
  }
}

if (process.argv.length !== 3) {
  console.error('usage: node check_arrow.mjs ARTIFACTS_DIR');
  process.exit(2);
}
const root = process.argv[2];
const arrow = await loadArrow();
const { tableFromIPC, DataType } = arrow;

// Type checks by kind: the exact widths are the writer's business.
const kinds = {
  int: (t) => DataType.isInt(t),
  int64: (t) => DataType.isInt(t) && t.bitWidth === 64 && t.isSigned,
  uint8: (t) => DataType.isInt(t) && t.bitWidth === 8 && !t.isSigned,
  float: (t) => DataType.isFloat(t),
  label: (t) => DataType.isInt(t) || DataType.isBool(t),
  vector: (t) => DataType.isFixedSizeList(t) && DataType.isFloat(t.children[0].type),
};

// The files and the columns each must have (more are allowed).
const files = {
  'triplets/triplets.arrow': {
    id: 'int64', class: 'int64', anchor: 'int64', positive: 'int64', negative: 'int64',
    anchor_label: 'uint8', positive_label: 'uint8', negative_label: 'uint8',
  },
  'train/history.arrow': { epoch: 'int', loss: 'float', val_loss: 'float', seconds: 'float' },
  'evaluate/embeddings.arrow': { class: 'int', anchor: 'vector', positive: 'vector', negative: 'vector' },
  'evaluate/scores.arrow': { id: 'int', similarity: 'float', label: 'label' },
};

const problems = [];
const tables = {};
for (const [rel, want] of Object.entries(files)) {
  const path = join(root, rel);
  if (!existsSync(path)) {
    problems.push(`${rel}: missing`);
    continue;
  }
  let table;
  try {
    table = tableFromIPC(readFileSync(path));
  } catch (e) {
    problems.push(`${rel}: cannot read: ${e.message}`);
    continue;
  }
  tables[rel] = table;
  const fields = Object.fromEntries(table.schema.fields.map((f) => [f.name, f.type]));
  for (const [name, kind] of Object.entries(want)) {
    if (!(name in fields)) {
      problems.push(`${rel}: no column ${name}`);
    } else if (!kinds[kind](fields[name])) {
      problems.push(`${rel}: column ${name} is ${fields[name]}, want ${kind}`);
    }
  }
  const cols = table.schema.fields.map((f) => `${f.name}: ${f.type}`).join(', ');
  console.log(`${rel}: ${table.numRows} rows; ${cols}`);
}

// Cross-file checks.
const emb = tables['evaluate/embeddings.arrow'];
const scores = tables['evaluate/scores.arrow'];
if (emb) {
  const widths = ['anchor', 'positive', 'negative']
    .map((n) => emb.schema.fields.find((f) => f.name === n))
    .filter((f) => f && DataType.isFixedSizeList(f.type))
    .map((f) => f.type.listSize);
  if (new Set(widths).size > 1) problems.push(`evaluate/embeddings.arrow: vector widths differ: ${widths}`);
  else if (widths.length) console.log(`  embedding width ${widths[0]}`);
}
if (scores && scores.schema.fields.some((f) => f.name === 'label') && scores.schema.fields.some((f) => f.name === 'similarity')) {
  const label = scores.getChild('label');
  const sim = scores.getChild('similarity');
  let pos = 0;
  let bad = 0;
  for (let i = 0; i < scores.numRows; i++) {
    if (Number(label.get(i)) === 1) pos++;
    const s = sim.get(i);
    if (!(s >= 0 && s <= 1)) bad++;
  }
  console.log(`  ${pos} positive and ${scores.numRows - pos} negative pairs`);
  if (bad) problems.push(`evaluate/scores.arrow: ${bad} similarities outside [0, 1]`);
  if (emb && scores.numRows !== 2 * emb.numRows) {
    // Not an error: the embeddings may cover more triplets than were scored.
    console.log(`  note: ${scores.numRows} pairs for ${emb.numRows} embedded triplets`);
  }
}
const hist = tables['train/history.arrow'];
if (hist && hist.numRows === 0) problems.push('train/history.arrow: no epochs');

for (const p of problems) console.error(`check_arrow: ${p}`);
if (problems.length) process.exit(1);
console.log('all Arrow files ok');
