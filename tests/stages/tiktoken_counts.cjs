#!/usr/bin/env node
// Counts tokens with the npm package tiktoken itself, for
// tests/stages/bpe_tokenizer_test.cc to compare against, document by
// document:
//
//   node tiktoken_counts.cjs TIKTOKEN_DIR ENCODING TEXTS OUT
//
// TIKTOKEN_DIR is the unpacked package (scripts/setup puts tiktoken@1.0.22
// in .cache/src/tiktoken-1.0.22/package). TEXTS holds the documents, each as
// a little-endian uint32 byte length and that many bytes of UTF-8. OUT gets
// one line per document: the length of encode_ordinary(text) (special-token
// strings count as ordinary text) and the 32-bit FNV-1a hash of the ids.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const [dir, encoding, textsPath, outPath] = process.argv.slice(2);
if (!outPath) {
  console.error('usage: tiktoken_counts.cjs TIKTOKEN_DIR ENCODING TEXTS OUT');
  process.exit(2);
}
const {get_encoding} = require(path.join(dir, 'tiktoken.cjs'));
const enc = get_encoding(encoding);
const texts = fs.readFileSync(textsPath);
const lines = [];
for (let pos = 0; pos < texts.length;) {
  const size = texts.readUInt32LE(pos);
  const text = texts.toString('utf8', pos + 4, pos + 4 + size);
  pos += 4 + size;
  const ids = enc.encode_ordinary(text);
  let hash = 0x811c9dc5;
  for (const id of ids) hash = Math.imul(hash ^ id, 0x01000193) >>> 0;
  lines.push(`${ids.length} ${hash}`);
}
enc.free();
fs.writeFileSync(outPath, lines.join('\n') + '\n');
