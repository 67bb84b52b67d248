// Tokenises files with the grammar of this extension, exactly as VS Code does (vscode-textmate
// on the Oniguruma regex engine compiled to WebAssembly), and prints the tokens as JSON:
//   { "<file>": [[line, startIndex, endIndex, [scope, ...]], ...], ... }
// Lines are split as VS Code splits them (\r\n, \r, \n); indices count UTF-16 code units.
// Usage: node tools/tokenize.js FILE...      (files are read as UTF-8)
"use strict";

const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const GRAMMAR = path.join(__dirname, "..", "syntaxes", "arch.tmLanguage.json");

async function load() {
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve("vscode-oniguruma")),
    "onig.wasm")).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) => scopeName === "source.arch"
      ? vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR, "utf8"), GRAMMAR) : null,
  });
  return registry.loadGrammar("source.arch");
}

function tokenize(grammar, text) {
  const out = [];
  let stack = vsctm.INITIAL;
  text.split(/\r\n|\r|\n/).forEach((line, i) => {
    const result = grammar.tokenizeLine(line, stack);
    for (const t of result.tokens) {
      out.push([i, t.startIndex, Math.min(t.endIndex, line.length), t.scopes]);
    }
    stack = result.ruleStack;
  });
  return out;
}

async function main() {
  const grammar = await load();
  const result = {};
  for (const file of process.argv.slice(2)) {
    result[file] = tokenize(grammar, fs.readFileSync(file, "utf8"));
  }
  process.stdout.write(JSON.stringify(result));
}

if (require.main === module) {
  main().catch((err) => { console.error(err); process.exit(1); });
}

module.exports = { load, tokenize };
