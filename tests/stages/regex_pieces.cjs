#!/usr/bin/env node
// Splits texts with a tiktoken pat_str run by a real backtracking regex
// engine (V8's), for tests/stages/pretokenizer_test.cc to compare the
// hand-written pre-tokenizers with, piece by piece:
//
//   node regex_pieces.cjs ENCODING_JSON CLASSES_JSON TEXTS OUT
//
// The pat_str of ENCODING_JSON is rewritten into JavaScript's dialect with
// the character classes of CLASSES_JSON (code point ranges, written by the
// test from stages/unicode_classes.h), so node's own Unicode version plays
// no part: \p{L}, \p{N}, \p{M}, \p{Ll}, \p{Lu}\p{Lt}, \p{Lm}\p{Lo}, \s and
// \S become explicit sets, and (?i:...) folds case as the regex crate does
// (s also matches U+017F, k also U+212A). TEXTS holds each text as a
// little-endian uint32 byte length and that many bytes of UTF-8; OUT gets,
// per text, the number of pieces, then each piece's length in UTF-8 bytes,
// all as little-endian uint32s.
'use strict';

const fs = require('node:fs');

const [encodingPath, classesPath, textsPath, outPath] = process.argv.slice(2);
if (!outPath) {
  console.error('usage: regex_pieces.cjs ENCODING_JSON CLASSES_JSON TEXTS OUT');
  process.exit(2);
}
const patStr = JSON.parse(fs.readFileSync(encodingPath, 'utf8')).pat_str;
const classes = JSON.parse(fs.readFileSync(classesPath, 'utf8'));

const hex = (cp) => `\\u{${cp.toString(16)}}`;
const set = (...names) =>
    names.flatMap((name) => classes[name])
        .map(([first, last]) => (first === last ? hex(first) : `${hex(first)}-${hex(last)}`))
        .join('');
// The classes merge Lu with Lt and Lm with Lo, as the patterns only name
// them in those pairs; a lone \p{Lu}, \p{Lt}, \p{Lm} or \p{Lo} is an error.
const properties = [
  ['\\p{Lu}\\p{Lt}', set('upper')],
  ['\\p{Lm}\\p{Lo}', set('letter')],
  ['\\p{Ll}', set('lower')],
  ['\\p{L}', set('upper', 'lower', 'letter')],
  ['\\p{N}', set('number')],
  ['\\p{M}', set('mark')],
  ['\\s', set('space')],
];
const folds = {s: '\u017f', k: '\u212a'};

function translate(pattern) {
  let out = '';
  let inSet = false;
  for (let i = 0; i < pattern.length;) {
    if (pattern.startsWith('(?i:', i)) {
      const end = pattern.indexOf(')', i);
      out += '(?:';
      for (const c of pattern.slice(i + 4, end)) {
        const lower = c.toLowerCase();
        const upper = c.toUpperCase();
        out += lower === upper ? c : `[${lower}${upper}${folds[lower] || ''}]`;
      }
      out += ')';
      i = end + 1;
      continue;
    }
    const property = properties.find(([name]) => pattern.startsWith(name, i));
    if (property) {
      out += inSet ? property[1] : `[${property[1]}]`;
      i += property[0].length;
    } else if (pattern.startsWith('\\S', i) && !inSet) {
      out += `[^${set('space')}]`;
      i += 2;
    } else if (/^\\[pPS]/.test(pattern.slice(i, i + 2))) {
      throw new Error(`cannot translate ${pattern.slice(i, i + 12)}`);
    } else if (pattern[i] === '\\') {
      out += pattern.slice(i, i + 2);  // \r \n
      i += 2;
    } else {
      if (pattern[i] === '[') inSet = true;
      if (pattern[i] === ']') inSet = false;
      out += pattern[i++];
    }
  }
  return out;
}

const regex = new RegExp(translate(patStr), 'gu');
const texts = fs.readFileSync(textsPath);
const out = [];
for (let pos = 0; pos < texts.length;) {
  const size = texts.readUInt32LE(pos);
  const text = texts.toString('utf8', pos + 4, pos + 4 + size);
  pos += 4 + size;
  const lengths = [];
  let next = 0;
  for (const match of text.matchAll(regex)) {
    if (match.index !== next) throw new Error(`no piece matches at ${next} of "${text.slice(0, 40)}"`);
    next += match[0].length;
    lengths.push(Buffer.byteLength(match[0]));
  }
  if (next !== text.length) throw new Error(`no piece matches at ${next} of "${text.slice(0, 40)}"`);
  const record = Buffer.alloc(4 * (lengths.length + 1));
  record.writeUInt32LE(lengths.length, 0);
  lengths.forEach((length, i) => record.writeUInt32LE(length, 4 * (i + 1)));
  out.push(record);
}
fs.writeFileSync(outPath, Buffer.concat(out));
