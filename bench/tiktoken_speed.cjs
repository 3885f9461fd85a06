#!/usr/bin/env node
// Times the npm tiktoken package's encode_ordinary under node, for
// bench/token_count_bench.cc to compare against on the same documents:
//
//   node tiktoken_speed.cjs TIKTOKEN_DIR TEXTS ENCODING...
//
// TEXTS holds each document as a little-endian uint32 byte length and that
// many bytes of UTF-8. Prints "ENCODING WALL CPU" per encoding: MB of
// document text (1e6 bytes) per second of wall time and per CPU second of
// the node process (its helper threads included), each the best of 3
// passes after a warm-up pass. Decoding the documents into strings is not
// timed.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const [dir, textsPath, ...encodings] = process.argv.slice(2);
if (encodings.length === 0) {
  console.error('usage: tiktoken_speed.cjs TIKTOKEN_DIR TEXTS ENCODING...');
  process.exit(2);
}
const {get_encoding} = require(path.join(dir, 'tiktoken.cjs'));
const packed = fs.readFileSync(textsPath);
const texts = [];
let bytes = 0;
for (let pos = 0; pos < packed.length;) {
  const size = packed.readUInt32LE(pos);
  texts.push(packed.toString('utf8', pos + 4, pos + 4 + size));
  bytes += size;
  pos += 4 + size;
}
for (const encoding of encodings) {
  const enc = get_encoding(encoding);
  let wall = Infinity;
  let cpu = Infinity;
  for (let pass = 0; pass < 4; ++pass) {
    const start = process.hrtime.bigint();
    const startCpu = process.cpuUsage();
    let tokens = 0;
    for (const text of texts) tokens += enc.encode_ordinary(text).length;
    const used = process.cpuUsage(startCpu);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (pass === 0) continue;  // warm-up
    wall = Math.min(wall, seconds);
    cpu = Math.min(cpu, (used.user + used.system) / 1e6);
  }
  enc.free();
  console.log(`${encoding} ${(bytes / 1e6 / wall).toFixed(2)} ${(bytes / 1e6 / cpu).toFixed(2)}`);
}
