// Reads the Arrow IPC file named on the command line with the apache-arrow
// package (an implementation independent of the Go writer) and prints it as
// JSON: {"fields":[{"name","type"}], "numRows", "columns":{name: [values]}}.
// FixedSizeList rows become nested arrays; 64-bit integers become strings
// (JSON numbers cannot hold them exactly).
import { readFileSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';

if (process.argv.length !== 3) {
  console.error('usage: node read_arrow.mjs FILE.arrow');
  process.exit(2);
}

const table = tableFromIPC(readFileSync(process.argv[2]));

const plain = (v) => {
  if (typeof v === 'bigint') return v.toString();
  if (v !== null && typeof v === 'object' && typeof v.toArray === 'function') {
    return Array.from(v.toArray(), plain);
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
};

const columns = {};
for (const field of table.schema.fields) {
  const col = table.getChild(field.name);
  const values = [];
  for (let i = 0; i < col.length; i++) values.push(plain(col.get(i)));
  columns[field.name] = values;
}

console.log(JSON.stringify({
  fields: table.schema.fields.map((f) => ({ name: f.name, type: String(f.type) })),
  numRows: table.numRows,
  metadata: Object.fromEntries(table.schema.metadata),
  columns,
}));
