-- Run by tests/editors/test_neovim.py inside `nvim --headless`, with editors/nvim on the
-- runtimepath (so the shipped ftdetect, ftplugin and syntax files are what runs) and the
-- buffer of a broken `.arch` file open. Waits for the language server's diagnostics, reads the
-- syntax groups at the positions asked for, and writes what it saw as JSON to $ARCH_OUT.
local out = os.getenv("ARCH_OUT")
local probes = vim.fn.json_decode(os.getenv("ARCH_PROBES") or "[]")
local buf = vim.api.nvim_get_current_buf()

local got = vim.wait(60000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
local diagnostics = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  local code = d.code
  if code == nil and d.user_data and d.user_data.lsp then code = d.user_data.lsp.code end
  table.insert(diagnostics, { lnum = d.lnum, col = d.col, code = code, message = d.message,
                              source = d.source, severity = d.severity })
end

local groups = {}
for _, p in ipairs(probes) do -- { line, col } 1-based
  local id = vim.fn.synID(p[1], p[2], 1)
  table.insert(groups, vim.fn.synIDattr(vim.fn.synIDtrans(id), "name") .. "/" ..
    vim.fn.synIDattr(id, "name"))
end

local clients = {}
for _, c in pairs(vim.lsp.get_active_clients()) do table.insert(clients, c.name) end

local f = assert(io.open(out, "w"))
f:write(vim.fn.json_encode({
  waited = got, diagnostics = diagnostics, groups = groups, clients = clients,
  filetype = vim.bo.filetype, commentstring = vim.bo.commentstring,
  version = tostring(vim.version().major) .. "." .. tostring(vim.version().minor),
}))
f:close()
for _, c in pairs(vim.lsp.get_active_clients()) do c.stop() end
vim.wait(2000, function() return #vim.lsp.get_active_clients() == 0 end, 50)
vim.cmd("qa!")
