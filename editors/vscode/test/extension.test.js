// The client without VS Code: `vscode` and `vscode-languageclient/node` are replaced by
// recorders, and activate() must start `archdsl lsp` over stdio for `.arch` documents, with
// the settings' command and search path. Run with `node --test test/`.
"use strict";

const assert = require("node:assert");
const Module = require("node:module");
const test = require("node:test");

function load(settings) {
  const made = [];
  const fakes = {
    vscode: {
      workspace: {
        getConfiguration: (section) => {
          assert.strictEqual(section, "archdsl");
          return { get: (key) => settings[key] };
        },
        createFileSystemWatcher: (glob) => ({ glob }),
      },
    },
    "vscode-languageclient/node": {
      LanguageClient: class {
        constructor(id, name, server, client) {
          Object.assign(this, { id, name, server, client, started: false, stopped: false });
          made.push(this);
        }
        start() { this.started = true; return Promise.resolve(); }
        stop() { this.stopped = true; return Promise.resolve(); }
      },
    },
  };
  const original = Module._load;
  Module._load = function (request, parent, isMain) {
    if (request in fakes) return fakes[request];
    return original.call(this, request, parent, isMain);
  };
  try {
    delete require.cache[require.resolve("../extension.js")];
    return { extension: require("../extension.js"), made };
  } finally {
    Module._load = original;
  }
}

test("activate starts `archdsl lsp` for .arch documents", async () => {
  const { extension, made } = load({});
  const context = { subscriptions: [] };
  await extension.activate(context);
  assert.strictEqual(made.length, 1);
  const c = made[0];
  assert.deepStrictEqual(c.server, { command: "archdsl", args: ["lsp"] });
  assert.ok(c.started);
  assert.deepStrictEqual(c.client.documentSelector.map((d) => d.language), ["arch", "arch"]);
  assert.strictEqual(c.client.synchronize.fileEvents.glob, "**/*.arch");
  assert.deepStrictEqual(c.client.initializationOptions, { searchPath: [] });
  await extension.deactivate();
  assert.ok(c.stopped);
});

test("the settings choose the command and the search path", async () => {
  const { extension, made } = load({
    "server.command": ["/venv/bin/archdsl", "lsp", "--max-layers", "1000"],
    searchPath: ["/zoo"],
  });
  await extension.activate({ subscriptions: [] });
  assert.deepStrictEqual(made[0].server,
    { command: "/venv/bin/archdsl", args: ["lsp", "--max-layers", "1000"] });
  assert.deepStrictEqual(made[0].client.initializationOptions, { searchPath: ["/zoo"] });
});
