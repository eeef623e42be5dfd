// Reads an Arrow IPC stream with the apache-arrow npm package (an independent reader) and prints it
// as JSON: {"batches", "batch_rows", "fields": [{name, type, nullable, metadata, dictionary?}], "rows"}.
// Values are printed exactly: 64-bit integers, temporal values and interval nanoseconds as decimal
// strings of their stored integers, DECIMAL as its scaled digits, binary as hex, non-finite floats
// as "NaN"/"Infinity"/"-Infinity", -0 as "-0".
// Usage: node arrow_dump.mjs <path to apache-arrow/Arrow.node.mjs> <file.arrows>
// Keep it Node 18 compatible (Debian 12).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [arrowModule, streamFile] = process.argv.slice(2);
const A = await import(pathToFileURL(arrowModule).href);
const { Type } = A;

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

function number(v) {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (Object.is(v, -0)) return '-0';
  return v;
}

// A value of unknown type (map entries, dictionary values).
function generic(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return number(v);
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Uint8Array) return hex(v);
  if (v instanceof A.Vector) return Array.from(v, generic);
  if (typeof v.toJSON === 'function') {
    const j = v.toJSON();
    if (Array.isArray(j)) return j.map(generic);
    return Object.fromEntries(Object.entries(j).map(([k, x]) => [k, generic(x)]));
  }
  return String(v);
}

function scaled(digits, scale) {
  if (scale <= 0) return digits;
  const neg = digits.startsWith('-');
  let d = neg ? digits.slice(1) : digits;
  d = d.padStart(scale + 1, '0');
  return (neg ? '-' : '') + d.slice(0, d.length - scale) + '.' + d.slice(d.length - scale);
}

// The stored integer(s) of fixed-width value i of a single-chunk vector.
function stored(vec, i) {
  const d = vec.data[0];
  const j = d.offset + i;
  const s = d.stride;
  const part = (k) => {
    const x = d.values[j * s + k];
    return typeof x === 'bigint' ? x.toString() : x;
  };
  return s === 1 ? part(0) : Array.from({ length: s }, (_, k) => part(k));
}

function canon(type, vec, i) {
  if (!vec.isValid(i)) return null;
  if (A.DataType.isDictionary(type)) return generic(vec.get(i));
  switch (type.typeId) {
    case Type.Null:
      return null;
    case Type.Int:
    case Type.Float:
    case Type.Bool:
    case Type.Utf8:
    case Type.LargeUtf8:
      return generic(vec.get(i));
    case Type.Binary:
    case Type.LargeBinary:
    case Type.FixedSizeBinary:
      return hex(vec.get(i));
    case Type.Decimal:
      return scaled(vec.get(i).toString(), type.scale);
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
    case Type.Duration:
      return String(stored(vec, i));
    case Type.Interval: {
      const d = vec.data[0];
      const j = d.offset + i;
      const v = d.values;
      if (d.stride === 4) {
        // MonthDayNano: int32 months, int32 days, int64 nanoseconds
        const nanos = (BigInt(v[j * 4 + 3]) << 32n) | BigInt(v[j * 4 + 2] >>> 0);
        return [v[j * 4], v[j * 4 + 1], nanos.toString()];
      }
      return stored(vec, i);
    }
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList: {
      const items = vec.get(i);
      const child = type.children[0].type;
      return Array.from({ length: items.length }, (_, k) => canon(child, items, k));
    }
    case Type.Struct:
      return Object.fromEntries(type.children.map((f, k) => [f.name, canon(f.type, vec.getChildAt(k), i)]));
    case Type.Map:
      return Array.from(vec.get(i), ([k, v]) => [generic(k), generic(v)]);
    case Type.Union: {
      const d = vec.data[0];
      const j = d.offset + i;
      const child = type.typeIdToChildIndex[d.typeIds[j]];
      const childType = type.children[child].type;
      if (type.mode === A.UnionMode.Dense) {
        return canon(childType, A.makeVector(d.children[child]), d.valueOffsets[j]);
      }
      return canon(childType, vec.getChildAt(child), i);
    }
    default:
      return generic(vec.get(i));
  }
}

function describe(field) {
  const t = field.type;
  const out = {
    name: field.name,
    type: String(t),
    nullable: field.nullable,
    metadata: Object.fromEntries(field.metadata),
  };
  if (A.DataType.isDictionary(t)) {
    out.dictionary = { id: t.id, indices: String(t.indices), values: String(t.dictionary), ordered: t.isOrdered };
  }
  if (t.children && t.children.length > 0) out.children = t.children.map(describe);
  return out;
}

// The reader, not tableFromIPC: a Table without batches gets an empty one, hiding what was sent.
const reader = A.RecordBatchReader.from(readFileSync(streamFile));
reader.open();
const fields = reader.schema.fields; // before reading on: the reader drops it when done
// A stream without record batches reads as one empty placeholder batch: not counted.
const batches = [...reader].filter((b) => b.constructor.name !== '_InternalEmptyPlaceholderRecordBatch');
const rows = [];
const batchRows = [];
for (const batch of batches) {
  batchRows.push(batch.numRows);
  const cols = fields.map((_, c) => batch.getChildAt(c));
  for (let r = 0; r < batch.numRows; ++r) rows.push(fields.map((f, c) => canon(f.type, cols[c], r)));
}
process.stdout.write(
  JSON.stringify({ batches: batches.length, batch_rows: batchRows, fields: fields.map(describe), rows }) + '\n',
);
