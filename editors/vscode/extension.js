// The VS Code client of the archdsl language server: starts `archdsl lsp` (or the command in
// the `archdsl.server.command` setting) over stdio for `.arch` files. Highlighting comes from
// syntaxes/arch.tmLanguage.json, generated from the compiler's grammar (make editors).
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function serverOptions(config) {
  const command = config.get("server.command") || ["archdsl", "lsp"];
  const [program, ...args] = command.length ? command : ["archdsl", "lsp"];
  return { command: program, args };
}

function activate(context) {
  const config = vscode.workspace.getConfiguration("archdsl");
  const clientOptions = {
    documentSelector: [
      { scheme: "file", language: "arch" },
      { scheme: "untitled", language: "arch" },
    ],
    initializationOptions: { searchPath: config.get("searchPath") || [] },
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher("**/*.arch"),
    },
  };
  client = new LanguageClient("archdsl", "archdsl language server", serverOptions(config),
    clientOptions);
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate, serverOptions };
